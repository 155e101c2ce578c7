"""The clock: one continuous audio timeline that never stops.

Voiced lines play in show order (a show's lines by seq; shows in the order their first
line arrived). When nothing is ready the clock falls back: the ident, the music bed,
and blocks of replayed recent lines, and it goes back to live lines as soon as one is
ready (the bed fades out under the voice; a replayed line or the ident is finished
first). The ident also plays at the top of every hour, between two lines.

The clock runs in its own thread, paced by `time.monotonic()`, so nothing the worker
does (a slow database, a busy broker) can stall the audio; a loader thread decodes the
next lines ahead, and `render()` only switches between sounds already in memory.
Sinks take PCM without blocking: each output buffers or drops on its own.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from radio.audio import read_mono
from radio.config import PlayoutSettings
from radio.messages import SegmentVoiced
from radio.playout import sounds

log = logging.getLogger(__name__)

Kind = Literal["live", "replay", "ident", "bed"]
MAX_CATCH_UP_S = 3.0  # further behind than this (a stalled process), the clock skips ahead


NEWS_PREFIX = "news-"  # breaking news (radio.shows.rundown.news_request) cuts in


class Sink(Protocol):
    def feed(self, pcm: bytes) -> None: ...


@dataclass(eq=False)
class Cue:
    """One sound on the timeline and, for lines, what it says."""

    kind: Kind
    pcm: np.ndarray | None = None  # None until the loader has decoded it
    segment: SegmentVoiced | None = None
    path: Path | None = None
    interruptible: bool = False  # the bed gives way to a live line at once
    limit: int | None = None  # samples to play of a looping sound
    loop: bool = False
    fade_in: int = 0
    pos: int = 0
    played: int = 0

    @property
    def done(self) -> bool:
        if self.limit is not None:
            return self.played >= self.limit
        return self.pcm is not None and self.pos >= self.pcm.size

    def duration_s(self, rate: int) -> float:
        size = self.pcm.size if self.pcm is not None else 0
        return (self.limit if self.limit is not None else size) / rate

    def read(self, n: int) -> np.ndarray:
        assert self.pcm is not None
        if self.limit is not None:
            n = min(n, self.limit - self.played)
        if self.loop:
            idx = (self.pos + np.arange(n)) % self.pcm.size
            out = self.pcm[idx]
        else:
            out = self.pcm[self.pos:self.pos + n]
        if self.played < self.fade_in:
            ramp = sounds.ramp(self.fade_in, True)[self.played:self.played + out.size]
            out = out.copy()
            out[:ramp.size] *= ramp
        self.pos = (self.pos + out.size) % self.pcm.size if self.loop else self.pos + out.size
        self.played += out.size
        return out

    def replay(self) -> Cue:
        return Cue("replay", self.pcm, self.segment, self.path)


@dataclass
class ShowQueue:
    """A show's voiced lines waiting for air, and where the show stands."""

    show_id: str
    pending: dict[int, Cue] = field(default_factory=dict)
    next_seq: int = 0
    waiting_since: float | None = None
    last_activity: float = 0.0
    finished: bool = False

    def upcoming(self, count: int) -> list[Cue]:
        return [self.pending[s] for s in sorted(self.pending)[:count]]

    def candidate(self, now: float, gap_wait_s: float) -> Cue | None:
        """The next line to air, once a missing one has been waited for long enough."""
        for seq in [s for s in self.pending if s < self.next_seq]:
            del self.pending[seq]  # late: the show went on without it
        if not self.pending:
            return None
        if self.next_seq in self.pending:
            return self.pending[self.next_seq]
        if self.waiting_since is None:
            self.waiting_since = now
        if now - self.waiting_since < gap_wait_s:
            return None
        log.warning("%s: line %d never came; going on", self.show_id, self.next_seq)
        return self.pending[min(self.pending)]

    def take(self, cue: Cue, now: float) -> None:
        assert cue.segment is not None
        del self.pending[cue.segment.seq]
        self.next_seq = cue.segment.seq + 1
        self.waiting_since = None
        self.last_activity = now
        self.finished = self.finished or cue.segment.last


EventHandler = Callable[[str, Cue, datetime], None]


class Timeline:
    """The on-air clock. `render()` is the whole logic; `start()` runs it in real time."""

    def __init__(self, settings: PlayoutSettings, sinks: list[Sink], on_event: EventHandler,
                 *, ident_pcm: np.ndarray | None = None, bed_pcm: np.ndarray | None = None,
                 clock: Callable[[], float] = time.monotonic, tz: tzinfo = UTC,
                 wallclock: Callable[[tzinfo], datetime] = datetime.now,
                 time_scale: float = 1.0) -> None:
        self.cfg = settings
        self.rate = settings.sample_rate
        self.sinks = sinks
        self.on_event = on_event
        self.clock = clock
        self.tz = tz
        self.wallclock = wallclock
        self.time_scale = time_scale  # station seconds per real second (radio.clock)
        self.bed = bed_pcm if bed_pcm is not None else sounds.music_bed(
            self.rate, settings.bed_level_db)
        self.ident_pcm = ident_pcm if ident_pcm is not None else sounds.ident(
            self.rate, settings.ident_text, self.bed)
        self.shows: dict[str, ShowQueue] = {}
        self.recent: deque[Cue] = deque()
        self.current: Cue | None = None
        self.fading: np.ndarray | None = None
        self.lock = threading.RLock()
        self.wake = threading.Condition(self.lock)
        self.in_fallback = False
        self.next_fallback: Literal["bed", "replay"] = "bed"
        self.replay_left = 0
        self.replay_cursor = 0
        self.last_ident: float | None = None
        self.ident_hour: tuple[int, int] | None = None
        self.rendered = 0  # samples since start
        self.fallback_samples = 0
        self.skipped_s = 0.0
        self._skip = False
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # --- what the worker calls -------------------------------------------------------

    def enqueue(self, segment: SegmentVoiced, path: Path) -> None:
        """A voiced line for air (replaces a queued one with the same show and seq)."""
        with self.lock:
            show = self.shows.get(segment.show_id)
            if show is None:
                show = self.shows[segment.show_id] = ShowQueue(segment.show_id,
                                                                 last_activity=self.clock())
                if segment.show_id.startswith(NEWS_PREFIX):  # breaking news: next on air
                    self.shows = {segment.show_id: show, **self.shows}
            if segment.seq < show.next_seq:
                return  # aired already, or skipped
            show.pending[segment.seq] = Cue("live", None, segment, path)
            show.last_activity = self.clock()
            self.wake.notify_all()

    def resume(self, show_id: str, next_seq: int) -> None:
        """After a restart: the show goes on at `next_seq`."""
        with self.lock:
            show = self.shows.setdefault(show_id, ShowQueue(show_id, last_activity=self.clock()))
            show.next_seq = next_seq

    def remember(self, segment: SegmentVoiced, path: Path) -> None:
        """A line aired before a restart, for replays (decoded by the loader)."""
        with self.lock:
            self.recent.append(Cue("live", None, segment, path))
            self.wake.notify_all()

    def skip(self) -> None:
        """Cut what is on air now (an operator's call), with a short fade."""
        with self.lock:
            self._skip = True

    def queued(self) -> tuple[int, float]:
        """Lines waiting and their seconds of audio."""
        with self.lock:
            cues = [c for s in self.shows.values() for c in s.pending.values()]
        return len(cues), sum(c.segment.duration_s for c in cues if c.segment)

    # --- the loader -----------------------------------------------------------------

    def prefetch(self, ahead: int = 3) -> int:
        """Decode the next lines of the first shows, and remembered lines; returns how many."""
        with self.lock:
            todo = [c for s in list(self.shows.values())[:2] for c in s.upcoming(ahead)
                    if c.pcm is None]
            todo += [c for c in self.recent if c.pcm is None]
        for cue in todo:
            assert cue.path is not None
            try:
                pcm = read_mono(cue.path, self.rate)
            except Exception as exc:  # a broken file must not hold the air: drop the line
                log.error("cannot decode %s: %s; dropping it", cue.path, exc)
                pcm = np.zeros(0, np.float32)
            with self.lock:
                cue.pcm = pcm
        if todo:
            self._trim_recent()
        return len(todo)

    def _trim_recent(self) -> None:
        with self.lock:
            limit = self.cfg.replay_memory_s * self.rate
            while sum(c.pcm.size for c in self.recent if c.pcm is not None) > limit:
                self.recent.popleft()
                self.replay_cursor = max(0, self.replay_cursor - 1)

    # --- rendering --------------------------------------------------------------------

    def render(self, n: int) -> np.ndarray:
        """The next n samples on air."""
        out = np.zeros(n, np.float32)
        with self.lock:
            filled = 0
            while filled < n:
                if self.current is None or self.current.done:
                    self._retire()
                    self._start(self._pick())
                elif self._skip or (self.current.interruptible and self._live_ready()):
                    self._skip = False
                    self._fade_out_current()
                    self._retire()
                    self._start(self._pick())
                piece = self.current.read(n - filled)  # type: ignore[union-attr]
                out[filled:filled + piece.size] += piece
                filled += piece.size
            if self.fading is not None:
                take = self.fading[:n]
                out[:take.size] += take
                self.fading = self.fading[n:] if self.fading.size > n else None
            self.rendered += n
            if self.in_fallback:
                self.fallback_samples += n
        return out

    def _retire(self) -> None:
        ended, self.current = self.current, None
        if ended is None:
            return
        if ended.kind == "live" and ended.segment is not None:
            self.recent.append(ended)
            self._trim_recent()
            show = self.shows.get(ended.segment.show_id)
            if show is not None:  # a stall counts from the end of the show's last line
                show.last_activity = self.clock()
        self._emit("end", ended)

    def _start(self, cue: Cue) -> None:
        self.current = cue
        self._emit("start", cue)

    def _emit(self, kind: str, cue: Cue) -> None:
        try:
            self.on_event(kind, cue, self.wallclock(UTC))
        except Exception:  # a listener's bug must never stop the clock
            log.exception("on-air event handler failed")

    def _fade_out_current(self) -> None:
        assert self.current is not None
        n = int(self.cfg.crossfade_s * self.rate)
        if n > 0:
            self.current.limit = None
            tail = self.current.read(n)
            self.fading = tail * sounds.ramp(n, False)[: tail.size]

    def _live_ready(self) -> bool:
        return self._next_live(self.clock(), peek=True) is not None

    def _pick(self) -> Cue:
        """The first source in the fallback chain that has something: the top-of-the-hour
        ident, the live show, the ident when due, a block of replays, the music bed."""
        now = self.clock()
        for source in (self._top_of_hour, self._live, self._ident_due, self._replays):
            cue = source(now)
            if cue is not None:
                return cue
        return self._bed(now)

    def _top_of_hour(self, now: float) -> Cue | None:
        hour = self.wallclock(self.tz).timetuple()[2:4]
        if self.ident_hour == hour:
            return None
        self.ident_hour = hour  # sign-on and the top of every hour
        return self._ident(now)

    def _live(self, now: float) -> Cue | None:
        cue = self._next_live(now, peek=False)
        if cue is None:
            if not self.in_fallback:
                self.in_fallback = True
                self.next_fallback = "bed"  # a fallback stretch starts with the bed
                log.info("nothing voiced is ready: falling back")
            return None
        self.in_fallback = False
        if self.cfg.gap_s > 0:
            gap = np.zeros(int(self.cfg.gap_s * self.rate), np.float32)
            assert cue.pcm is not None
            cue.pcm = np.concatenate([gap, cue.pcm])
        return cue

    def _next_live(self, now: float, *, peek: bool) -> Cue | None:
        for show in list(self.shows.values()):
            cue = show.candidate(now, self.cfg.gap_wait_s)
            if cue is not None:
                if cue.pcm is None:
                    return None  # the loader is on it: hold, don't skip
                if not peek:
                    show.take(cue, now)
                    if show.finished and not show.pending:
                        del self.shows[show.show_id]
                return cue
            if show.finished and not show.pending:
                del self.shows[show.show_id]
                continue
            if show.pending or now - show.last_activity < self.cfg.stall_timeout_s:
                return None  # this show holds the air
            # Stalled with nothing voiced: a show that is ready may go first.
            self.shows[show.show_id] = self.shows.pop(show.show_id)
        return None

    def _ident(self, now: float) -> Cue:
        self.last_ident = now
        return Cue("ident", self.ident_pcm)

    def _ident_due(self, now: float) -> Cue | None:
        if self.last_ident is None or now - self.last_ident >= self.cfg.ident_every_s:
            return self._ident(now)
        return None

    def _replays(self, now: float) -> Cue | None:
        """Recent lines again, in blocks that alternate with the bed."""
        if self.next_fallback == "replay" or self.replay_left > 0:
            return self._replay()
        return None

    def _bed(self, now: float) -> Cue:
        self.next_fallback = "replay"
        return Cue("bed", self.bed, interruptible=True, loop=True,
                   limit=int(max(1.0, self.cfg.bed_s) * self.rate),
                   fade_in=int(self.cfg.crossfade_s * self.rate),
                   pos=self.rendered % self.bed.size)

    def _replay(self) -> Cue | None:
        """The next recent line in a block of replays, oldest first, round and round."""
        ready = [c for c in self.recent if c.pcm is not None and c.pcm.size]
        if not ready:
            self.replay_left = 0
            return None
        if self.replay_left == 0:
            self.replay_left = self.cfg.replay_lines
        self.replay_left -= 1
        if self.replay_left == 0:
            self.next_fallback = "bed"
        cue = ready[self.replay_cursor % len(ready)]
        self.replay_cursor = (self.replay_cursor + 1) % len(ready)
        return cue.replay()

    # --- real time --------------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._threads = [threading.Thread(target=self._run, name="playout-clock", daemon=True),
                         threading.Thread(target=self._load, name="playout-loader",
                                          daemon=True)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self.lock:
            self.wake.notify_all()
        for thread in self._threads:
            thread.join(timeout=5)

    def _load(self) -> None:
        while not self._stop.is_set():
            try:
                loaded = self.prefetch()
            except Exception:  # keep loading the next lines whatever one of them did
                log.exception("loader failed")
                loaded = 0
            if loaded == 0:
                with self.lock:
                    self.wake.wait(timeout=0.5)

    def _run(self) -> None:
        chunk = max(1, self.rate * self.cfg.chunk_ms // 1000)
        origin, produced = self.clock(), 0
        while not self._stop.is_set():
            now = self.clock()
            ahead = origin + produced / self.rate - now
            if ahead > self.cfg.lead_s:
                self._stop.wait((ahead - self.cfg.lead_s) / self.time_scale)
                continue
            if ahead < -MAX_CATCH_UP_S * self.time_scale:  # the same real stall at any scale
                log.warning("the clock was stalled %.1fs; skipping ahead", -ahead)
                self.skipped_s += -ahead
                origin -= ahead
            data = sounds.to_s16(self._render_safely(chunk))
            for sink in self.sinks:
                sink.feed(data)
            produced += chunk

    def _render_safely(self, n: int) -> np.ndarray:
        """A bug in the clock's logic costs the current sound, never the air: the bed."""
        try:
            return self.render(n)
        except Exception:
            log.exception("the clock failed to render; the bed covers")
            with self.lock:
                self.current, self.fading = None, None
                start = self.rendered % self.bed.size
                self.rendered += n
            return self.bed[(start + np.arange(n)) % self.bed.size]
