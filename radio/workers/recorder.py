"""recorder: voiced segments in, one podcast episode per show out.

Consumes `audio/voiced` (SegmentVoiced), produces `episodes/recorded` (EpisodeRecorded).
Each segment is noted in the `segments` table; when a show has all `total` of them,
in whatever order and however often they came, the episode is assembled (mp3 with
chapters, transcript, chapters JSON), recorded in `episodes`, the retention policy
runs, the feed is rebuilt, and EpisodeRecorded goes out. The `episodes` primary key
makes it one episode per show, even with several recorders on one database.

`background()` runs the station's HTTP server (radio/web.py): feed, episodes, index.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from radio import feed, web
from radio.episodes.assemble import AssemblyError
from radio.episodes.episode import Episode, collect_segments, record_episode
from radio.messages import EpisodeRecorded, Message, SegmentVoiced
from radio.store import now_iso
from radio.worker import PermanentError, Worker


class RecorderWorker(Worker):
    name = "recorder"
    consumes = (SegmentVoiced,)
    produces = (EpisodeRecorded,)

    async def handle(self, message: Message) -> None:
        assert isinstance(message, SegmentVoiced)
        if self._recorded(message.show_id):
            self.log.debug("%s already recorded; segment %d ignored", message.show_id,
                           message.seq)
            return
        self._note_segment(message)
        segments = collect_segments(self.store, self.data, message.show_id, message.total)
        if segments is None:
            return
        try:
            episode = await asyncio.to_thread(record_episode, self.store, self.data,
                                              self.settings, message.show_id, segments)
        except AssemblyError as exc:
            raise PermanentError(f"cannot assemble {message.show_id}: {exc}") from exc
        if self._insert_episode(episode):
            await asyncio.to_thread(feed.apply_retention, self.store, self.data, self.settings)
            await self.publish(self._recorded_message(episode))

    def _recorded(self, show_id: str) -> bool:
        return self.store.one("SELECT 1 FROM episodes WHERE show_id=?", (show_id,)) is not None

    def _note_segment(self, message: SegmentVoiced) -> None:
        """Record the line; the tts worker's own row, if there is one, wins."""
        try:
            self.data.verify(message.audio)  # the file is there and is what the message says
        except ValueError as exc:  # a checksum mismatch: no retry will fix it
            raise PermanentError(str(exc)) from exc
        self.store.execute(
            "INSERT INTO segments (show_id, seq, speaker, text, paper_id, audio_path, "
            "duration_s) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (show_id, seq) DO UPDATE SET "
            "audio_path=COALESCE(segments.audio_path, excluded.audio_path), "
            "duration_s=COALESCE(segments.duration_s, excluded.duration_s)",
            (message.show_id, message.seq, message.speaker, message.text, message.paper_id,
             message.audio.path, message.duration_s))

    def _insert_episode(self, episode: Episode) -> bool:
        """True if this call recorded the episode (False: another recorder was first)."""
        paths = episode.paths
        with self.store.tx() as db:
            inserted = db.execute(
                "INSERT OR IGNORE INTO episodes (show_id, title, mp3_path, transcript_path, "
                "chapters_path, duration_s, bytes, loudness_lufs, published_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (episode.show_id, episode.title, self._relative(paths.mp3),
                 self._relative(paths.transcript), self._relative(paths.chapters),
                 episode.duration_s, paths.mp3.stat().st_size, episode.loudness_lufs,
                 now_iso())).rowcount == 1
            db.execute("UPDATE shows SET status='recorded', updated_at=? WHERE show_id=?",
                       (now_iso(), episode.show_id))
        return inserted

    def _relative(self, path: Path) -> str:
        return path.relative_to(self.data.root).as_posix()

    def _recorded_message(self, episode: Episode) -> EpisodeRecorded:
        paths = episode.paths
        return EpisodeRecorded(
            show_id=episode.show_id, title=episode.title, mp3=self.data.artifact(paths.mp3),
            transcript=self.data.artifact(paths.transcript),
            chapters=self.data.artifact(paths.chapters), duration_s=episode.duration_s,
            loudness_lufs=episode.loudness_lufs)

    async def background(self) -> None:
        await web.serve(self.ctx)

    def status_detail(self) -> dict:
        row = self.store.one("SELECT count(*) FROM episodes")
        return {"episodes": int(row[0]) if row else 0, "feed": feed.feed_url(self.settings)}
