"""The clock's logic on real voiced lines, rendered faster than real time.

`Timeline.render()` is driven chunk by chunk on a simulated monotonic clock, so the
tests see exactly what would go on air: the order of lines, the fallback, the way back
to live, the hourly ident, and the level of every chunk (never dead air).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest

from radio.artifacts import DataRoot
from radio.config import PlayoutSettings
from radio.messages import SegmentVoiced
from radio.playout import sounds
from radio.playout.timeline import Cue, Timeline
from tests.onair.voicing import longest_silence, sentences, voice_show

RATE = 24000
CHUNK = RATE // 10


@dataclass
class Show:
    root: Path
    lines: list[SegmentVoiced]

    def path(self, index: int) -> Path:
        return self.root / self.lines[index].audio.path


@pytest.fixture(scope="module")
def show(tmp_path_factory: pytest.TempPathFactory) -> Show:
    from tests.support.settings import CORPUS

    data = DataRoot(tmp_path_factory.mktemp("voiced"))
    return Show(data.root, voice_show(data, "daily-test", sentences(CORPUS, 5)))


class Air:
    """Runs a timeline on a simulated clock and keeps what it put on air."""

    def __init__(self, **overrides: object) -> None:
        defaults = {"bed_s": 6.0, "gap_wait_s": 3.0, "replay_lines": 2}
        self.cfg = PlayoutSettings(**{**defaults, **overrides})
        self.t = 1000.0
        self.wall = datetime(2026, 11, 21, 7, 58, 0, tzinfo=UTC)
        self.events: list[tuple[str, str, int | None, float]] = []
        self.shows: list[str] = []  # show of each live line, in the order they started
        self.chunks: list[np.ndarray] = []
        self.timeline = Timeline(self.cfg, [], self._event, ident_pcm=sounds.chime(RATE),
                                 clock=lambda: self.t, wallclock=lambda tz: self.wall)

    def _event(self, kind: str, cue: Cue, at: datetime) -> None:
        self.events.append((kind, cue.kind, cue.segment.seq if cue.segment else None, self.t))
        if kind == "start" and cue.kind == "live" and cue.segment:
            self.shows.append(cue.segment.show_id)

    def enqueue(self, show: Show, *indices: int) -> None:
        for index in indices:
            self.timeline.enqueue(show.lines[index], show.path(index))

    def run(self, seconds: float) -> None:
        for _ in range(round(seconds * 10)):
            self.timeline.prefetch()
            self.chunks.append(self.timeline.render(CHUNK))
            self.t += 0.1
            self.wall += timedelta(seconds=0.1)

    def started(self) -> list[tuple[str, int | None]]:
        return [(kind, seq) for event, kind, seq, _ in self.events if event == "start"]

    def live(self) -> list[int | None]:
        return [seq for kind, seq in self.started() if kind == "live"]

    def longest_silence(self) -> float:
        return longest_silence(np.concatenate(self.chunks), RATE)


def test_lines_air_in_order_after_the_sign_on_ident(show: Show) -> None:
    air = Air()
    air.enqueue(show, 2, 0, 1)  # out of order, as parallel voices may deliver them
    air.run(1.0)
    assert air.started()[0] == ("ident", None)
    air.run(sum(s.duration_s for s in show.lines[:3]) + 3)
    assert air.live() == [0, 1, 2]
    assert air.longest_silence() < 2.0


def test_falls_back_when_dry_and_returns_as_soon_as_a_line_is_ready(show: Show) -> None:
    air = Air()
    air.enqueue(show, 0, 1)
    air.run(sum(s.duration_s for s in show.lines[:2]) * 2 + 9)  # bed (6 s), replays
    kinds = [kind for kind, _ in air.started()]
    assert kinds[:3] == ["ident", "live", "live"]
    assert "bed" in kinds and "replay" in kinds, kinds
    replays = [seq for kind, seq in air.started() if kind == "replay"]
    assert replays[:2] == [0, 1], "a block of replays plays recent lines in order"
    assert air.timeline.fallback_samples > 0
    # A new line arrives while the bed plays: it goes on air within a chunk or two.
    while air.timeline.current is None or air.timeline.current.kind != "bed":
        air.run(0.1)
    arrived = air.t
    air.enqueue(show, 2)
    air.run(0.3)
    started = [t for event, kind, seq, t in air.events if event == "start" and seq == 2 and
               kind == "live"]
    assert started and started[0] - arrived <= 0.2
    air.run(show.lines[2].duration_s + 1)
    assert air.longest_silence() < 2.0, "never dead air, fallback included"


def test_a_missing_line_is_waited_for_then_skipped(show: Show) -> None:
    air = Air(gap_wait_s=3.0)
    air.enqueue(show, 0, 2, 3)  # line 1 never comes
    air.run(show.lines[0].duration_s + 1.5)
    assert air.live() == [0]
    air.run(3.0 + show.lines[2].duration_s)
    assert air.live()[:2] == [0, 2]
    air.enqueue(show, 1)  # too late: the show has gone on
    air.run(show.lines[3].duration_s + 1)
    assert air.live() == [0, 2, 3]


def test_the_ident_plays_at_the_top_of_the_hour_between_lines(show: Show) -> None:
    air = Air()
    air.enqueue(show, 0, 1, 2)
    air.run(2.0)
    air.wall = air.wall.replace(minute=59, second=59)  # the hour turns during line 0
    air.run(sum(s.duration_s for s in show.lines[:3]) + 4)
    kinds = air.started()
    assert kinds.count(("ident", None)) == 2
    second = kinds.index(("ident", None), 1)
    assert kinds[second - 1][0] == "live" and kinds[second + 1][0] == "live", kinds


def test_a_stalled_show_gives_way_to_a_show_that_is_ready(show: Show) -> None:
    other = [s.model_copy(update={"show_id": "latest-test", "id": ""}) for s in show.lines]
    air = Air(stall_timeout_s=2.0)
    air.timeline.enqueue(other[0], show.path(0))  # first to arrive: holds the air
    air.enqueue(show, 0, 1)
    air.run(2.5 + other[0].duration_s)
    assert air.shows == ["latest-test"], "the other show waits while this one may go on"
    air.run(2.0 + show.lines[0].duration_s + show.lines[1].duration_s + 1)
    assert air.shows == ["latest-test", "daily-test", "daily-test"]


def test_skip_and_restart_resume(show: Show) -> None:
    air = Air()
    air.timeline.resume("daily-test", 3)  # after a restart: 0-2 aired already
    air.enqueue(show, 3, 4)
    air.run(1.0)
    air.timeline.skip()  # the operator cuts the ident short
    air.run(0.3)
    assert air.live() == [3]
    air.run(show.lines[3].duration_s + show.lines[4].duration_s + 1)
    assert air.live() == [3, 4]


def test_a_bug_in_the_clock_costs_the_sound_not_the_air(monkeypatch: pytest.MonkeyPatch) -> None:
    air = Air()

    def broken() -> Cue:
        raise RuntimeError("a bug")

    monkeypatch.setattr(air.timeline, "_pick", broken)
    pcm = air.timeline._render_safely(CHUNK)
    assert sounds.rms_db(pcm) > -40, "the bed covers"
    monkeypatch.undo()
    air.run(0.5)
    assert air.started() == [("ident", None)], "and the clock carries on"


def test_the_fallback_chain_alternates_bed_and_replays_and_idents_when_due(show: Show) -> None:
    """Dry air, in the chain's order: the bed first, then a block of replays, the bed again,
    and the ident whenever it is due, before either."""
    air = Air(ident_every_s=40.0, bed_s=6.0, replay_lines=2)
    air.enqueue(show, 0, 1)
    spoken = sum(s.duration_s for s in show.lines[:2])
    air.run(spoken + 80)
    kinds = [kind for kind, _ in air.started()]
    assert kinds[:3] == ["ident", "live", "live"]
    dry = kinds[3:]
    assert dry[:4] == ["bed", "replay", "replay", "bed"], dry
    idents = [t for event, kind, _, t in air.events if event == "start" and kind == "ident"]
    assert len(idents) >= 2, dry
    assert all(later - earlier >= 40.0 for earlier, later in pairwise(idents))
    after_ident = dry[dry.index("ident") + 1]
    assert after_ident in ("bed", "replay"), dry
    assert air.longest_silence() < 2.0
