"""playout: the clock. Puts voiced lines on air in show order; never dead air.

Consumes `audio/voiced` (SegmentVoiced): each line is checked and queued on the
timeline (radio.playout.timeline), which plays in real time in its own thread and falls
back to the ident, the music bed and replays when nothing is ready. Produces the
retained `onair/now` (OnAirNow) on every change of what is on air, marks lines aired in
the store and keeps its place there (`kv: playout.position`), so a restarted playout
goes on where it stopped. A line goes on this instance's timeline only once it has claimed
it in the store (`claim_segment`, by `playout/<instance>`): two playout instances on one
database never air the same line, whatever reaches them (a redelivery, a restart that
restores lines another instance received, shared subscriptions off). Outputs,
each an ffmpeg child restarted on its own (radio.playout.supervise): Icecast mp3 with
now-playing titles (icecast), the same mp3 served directly over HTTP (listeners;
playout.listen_bind, for a station without Icecast), RTMP video (rtmp), and `onair/` files
for OBS (screen).

Commands (`commands/playout`): `skip` (the current sound), `restart` (`args.output`:
icecast or rtmp; all if none).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from radio.clock import StationClock
from radio.messages import AirMode, Command, OnAirNow, SegmentVoiced, parse
from radio.playout import sounds, visuals
from radio.playout.icecast import IcecastOutput
from radio.playout.listeners import HttpStreamOutput
from radio.playout.meter import SilenceMeter
from radio.playout.rtmp import RtmpOutput
from radio.playout.screen import Screen
from radio.playout.supervise import PcmOutput
from radio.playout.timeline import Cue, Timeline
from radio.worker import PermanentError, Worker

POSITION_KEY = "playout.position"
MODES: dict[str, AirMode] = {"live": "live", "replay": "fallback", "bed": "fallback",
                             "ident": "ident"}


class PlayoutWorker(Worker[SegmentVoiced]):
    name = "playout"
    preload = ("scipy.signal",)
    consumes = (SegmentVoiced,)
    produces = (OnAirNow,)
    needs_disk = False  # what is voiced airs even on a full disk

    async def setup(self) -> None:
        cfg = self.settings.playout
        feed = self.settings.feed
        self.screen = await asyncio.to_thread(Screen, self.data.root / "onair", cfg.video_size,
                                              feed.title, write_files=cfg.obs_files)
        self.outputs: dict[str, PcmOutput] = {}
        if cfg.icecast_url:
            self.outputs["icecast"] = IcecastOutput(cfg, feed.title, feed.description)
        if cfg.rtmp_url:
            self.outputs["rtmp"] = RtmpOutput(cfg, lambda: self.screen.frame)
        if cfg.listen_bind:
            self.outputs["http"] = HttpStreamOutput(cfg, feed.title, cfg.listen_bind)
        bed = await asyncio.to_thread(sounds.music_bed, cfg.sample_rate, cfg.bed_level_db)
        ident = await asyncio.to_thread(sounds.ident, cfg.sample_rate, cfg.ident_text, bed)
        self.events: asyncio.Queue[tuple[str, Cue, datetime]] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def on_event(kind: str, cue: Cue, at: datetime) -> None:  # in the clock's thread
            loop.call_soon_threadsafe(self.events.put_nowait, (kind, cue, at))

        clock = StationClock(self.settings.clock)  # faster in a soak
        self.meter = SilenceMeter(cfg.sample_rate)  # dead air, measured on the timeline
        self.timeline = Timeline(cfg, [*self.outputs.values(), self.meter], on_event,
                                 ident_pcm=ident, bed_pcm=bed,
                                 tz=ZoneInfo(self.settings.scheduler.timezone),
                                 clock=clock.monotonic, wallclock=clock.now,
                                 time_scale=clock.scale)
        self.now: OnAirNow | None = None
        await asyncio.to_thread(self._restore)
        for output in self.outputs.values():
            output.start()
        self.timeline.start()
        self.log.info("on air: outputs %s", ", ".join(self.outputs) or "none")

    async def teardown(self) -> None:
        timeline = getattr(self, "timeline", None)
        if timeline is not None:
            await asyncio.to_thread(timeline.stop)
        for output in getattr(self, "outputs", {}).values():
            await asyncio.to_thread(output.stop)

    # --- work: voiced lines ------------------------------------------------------------

    async def handle(self, message: SegmentVoiced) -> None:
        try:
            path = await asyncio.to_thread(self.data.verify, message.audio)
        except (FileNotFoundError, ValueError) as exc:
            raise PermanentError(f"{message.show_id}#{message.seq}: {exc}") from exc
        self.store.note_segment(message.show_id, message.seq, message.speaker, message.text,
                                message.paper_id, message.audio.path, message.duration_s)
        if not await asyncio.to_thread(self._claim, message):
            return
        self.timeline.enqueue(message, path)

    @property
    def claimer(self) -> str:
        return f"{self.name}/{self.instance}"

    def _claim(self, segment: SegmentVoiced) -> bool:
        """Whether this instance may air a line: it claimed it (now or before a restart)."""
        if self.store.claim_segment(segment.show_id, segment.seq, self.claimer):
            return True
        self.log.info("%s#%d is another playout's: not queued", segment.show_id, segment.seq)
        return False

    def _restore(self) -> None:
        """Queue again what was received but not aired; remember what aired, for replays."""
        since = (datetime.now(UTC) - timedelta(hours=self.settings.playout.restore_window_h))
        received = [parse(SegmentVoiced, payload)
                    for payload in self.received(SegmentVoiced, since)]
        aired_at = self.store.aired_at(sorted({s.show_id for s in received}))
        position = self.store.get_kv(POSITION_KEY) or {}
        unaired: dict[str, list[SegmentVoiced]] = {}
        aired: list[tuple[str, SegmentVoiced]] = []
        for segment in received:
            when = aired_at.get((segment.show_id, segment.seq))
            if when:
                aired.append((when, segment))
            else:
                unaired.setdefault(segment.show_id, []).append(segment)
        current = position.get("show_id")
        order = sorted(unaired, key=lambda show: show != current)  # the show on air first
        for show in order:
            segments = sorted((s for s in unaired[show] if self._claim(s)),
                              key=lambda s: s.seq)
            if not segments:
                continue
            self.timeline.resume(show, segments[0].seq)
            for segment in segments:
                self._restore_one(segment, remember=False)
        for _, segment in sorted(aired, key=lambda pair: pair[0])[-60:]:
            self._restore_one(segment, remember=True)
        if unaired or aired:
            self.log.info("restored %d unaired lines of %d shows; %d recent for replays",
                          sum(map(len, unaired.values())), len(unaired), min(len(aired), 60))

    def _restore_one(self, segment: SegmentVoiced, *, remember: bool) -> None:
        try:
            path = self.data.resolve(segment.audio)
        except ValueError:
            return
        if not path.is_file():
            return
        if remember:
            self.timeline.remember(segment, path)
        else:
            self.timeline.enqueue(segment, path)

    # --- what is on air ----------------------------------------------------------------

    async def background(self) -> None:
        await asyncio.gather(self._follow_clock(), self._watch_outputs())

    async def _watch_outputs(self) -> None:
        """An output that goes down is reported (errors, status) and again when it is back."""
        while True:
            await asyncio.sleep(1.0)
            for name, output in self.outputs.items():
                change = output.watch()
                if change == "down":
                    reason = f"output {name} down: {output.status()['last_error'] or 'no audio'}"
                    self.log.warning("%s", reason)
                    await self.report_error(f"playout/{name}", name, reason)
                    await self.publish_status()
                elif change == "up" and output.restarts > 0:
                    self.log.info("output %s is back", name)
                    if self.last_error and self.last_error.startswith(f"output {name} "):
                        self.last_error = None
                    await self.publish_status()

    async def _follow_clock(self) -> None:
        """Follow the clock: publish onair/now, keep the store's place, mark lines aired."""
        while True:
            events = [await self.events.get()]
            while not self.events.empty():
                events.append(self.events.get_nowait())
            try:
                await self._follow(events)
            except Exception as exc:  # the clock plays on; only the announcement is lost
                self.log.exception("on-air bookkeeping failed")
                await self.report_error(OnAirNow.TOPIC, None, f"{type(exc).__name__}: {exc}")

    async def _follow(self, events: list[tuple[str, Cue, datetime]]) -> None:
        """Keep the store's place, then announce what is on air now."""
        for kind, cue, _ in events:
            if cue.kind == "live" and cue.segment is not None:
                await asyncio.to_thread(self._keep_place, kind, cue.segment)
        starts = [(cue, at) for kind, cue, at in events if kind == "start"]
        for cue, at in starts[:-1]:  # already over: announced, but no picture for them
            now, _ = await asyncio.to_thread(self._describe, cue, at)
            await self.publish(now, retain=True)
        if starts:
            await self._on_air(*starts[-1])

    def _keep_place(self, kind: str, segment: SegmentVoiced) -> None:
        position = {"show_id": segment.show_id, "seq": segment.seq, "finished": kind == "end"}
        if kind == "end":
            self.store.mark_aired(segment.show_id, segment.seq, position=(POSITION_KEY, position))
        else:
            self.store.set_kv(POSITION_KEY, position)

    async def _on_air(self, cue: Cue, at: datetime) -> None:
        now, image = await asyncio.to_thread(self._describe, cue, at)
        self.now = now
        # Files first: whoever follows onair/now finds them already showing it.
        await asyncio.to_thread(self.screen.show, now, image)
        await self.publish(now, retain=True)
        title = _stream_title(now, self.settings.feed.title)
        icecast = self.outputs.get("icecast")
        if isinstance(icecast, IcecastOutput):
            await icecast.set_title(title)
        listeners = self.outputs.get("http")
        if isinstance(listeners, HttpStreamOutput):
            listeners.title = title

    def _describe(self, cue: Cue, at: datetime) -> tuple[OnAirNow, Path | None]:
        segment = cue.segment
        duration = cue.duration_s(self.timeline.rate)
        if segment is None:
            text = self.settings.playout.ident_text if cue.kind == "ident" else ""
            return OnAirNow(mode=MODES[cue.kind], text=text, started_at=at,
                            duration_s=duration), None
        paper = visuals.paper(self.store, segment.paper_id)
        image = visuals.choose_image(
            self.data, paper, segment.page,
            licensed_only=self.settings.playout.show_pages_only_if_licensed)
        row = self.store.show(segment.show_id)
        show_title = (row["title"] if row and row["title"] else None) or segment.show_id
        return OnAirNow(
            mode=MODES[cue.kind], show_id=segment.show_id, show_title=show_title,
            seq=segment.seq, speaker=segment.speaker, text=segment.text,
            paper_id=segment.paper_id, title=paper.title if paper else None,
            authors=list(paper.authors) if paper else [],
            image=image.relative_to(self.data.root).as_posix() if image else None,
            started_at=at, duration_s=duration), image

    # --- operators ---------------------------------------------------------------------

    async def on_command(self, command: Command) -> None:
        if command.action == "skip":
            self.timeline.skip()
        elif command.action == "restart":
            wanted = command.args.get("output")
            for name, output in self.outputs.items():
                if wanted in (None, name):
                    await asyncio.to_thread(output.restart)
        else:
            await super().on_command(command)

    def status_detail(self) -> dict:
        timeline = getattr(self, "timeline", None)
        if timeline is None:
            return {}
        lines, seconds = timeline.queued()
        now = getattr(self, "now", None)
        return {
            "mode": now.mode if now else "idle",
            "show_id": now.show_id if now else None, "seq": now.seq if now else None,
            "queued_lines": lines, "queued_s": round(seconds, 1),
            "fallback_s": round(timeline.fallback_samples / timeline.rate, 1),
            "skipped_s": round(timeline.skipped_s, 1), "silence": self.meter.report(),
            "outputs": {name: output.status() for name, output in self.outputs.items()},
        }


def _stream_title(now: OnAirNow, station: str) -> str:
    if now.mode == "live" and now.title:
        return f"{now.title} (arXiv:{now.paper_id}) · {now.show_title}"
    if now.mode == "live" and now.show_title:
        return f"{now.show_title} · {station}"
    return station
