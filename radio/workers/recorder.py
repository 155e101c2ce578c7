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

from radio import feed, web
from radio.episodes.assemble import AssemblyError
from radio.episodes.episode import Episode, collect_segments, record_episode, save_episode
from radio.messages import EpisodeRecorded, SegmentVoiced
from radio.worker import PermanentError, Worker


class RecorderWorker(Worker[SegmentVoiced]):
    name = "recorder"
    preload = ("pyloudnorm", "scipy.signal")
    consumes = (SegmentVoiced,)
    produces = (EpisodeRecorded,)

    async def handle(self, message: SegmentVoiced) -> None:
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
        if save_episode(self.store, self.data, episode):
            await asyncio.to_thread(feed.apply_retention, self.store, self.data, self.settings)
            await self.publish(self._recorded_message(episode))

    def _recorded(self, show_id: str) -> bool:
        return self.store.episode(show_id) is not None

    def _note_segment(self, message: SegmentVoiced) -> None:
        """Record the line; the tts worker's own row, if there is one, wins.

        The file must exist, but its checksum may have moved on since this message was
        sent (the tts worker re-voices a rewritten line in place): the table, not a
        delayed message, says what the line is now.
        """
        try:
            path = self.data.resolve(message.audio)
        except ValueError as exc:  # a path outside the data root: no retry will fix it
            raise PermanentError(str(exc)) from exc
        if not path.is_file():
            raise FileNotFoundError(f"segment audio missing: {message.audio.path}")
        self.store.note_segment(message.show_id, message.seq, message.speaker, message.text,
                                message.paper_id, message.audio.path, message.duration_s)

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
        return {"episodes": self.store.count_episodes(), "feed": feed.feed_url(self.settings)}
