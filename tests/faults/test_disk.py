"""Disk nearly full: new work waits with a clear error, the air plays on, retention frees.

The data root sits on a 64 MB tmpfs (as root), else in a temp dir with the reserve set
just under what is free there. Old episodes and a filler file leave less than
`disk.reserve_mb` free; the tts worker is handed a show and must hold it (named on
`errors` and in its status, nothing written), while the playout keeps airing a show voiced
before. The retention policy (`radio feed build`, as an operator runs it) deletes the old
episodes; the held show is then voiced, and no temporary file is left anywhere.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from radio.artifacts import DataRoot
from radio.config import DiskSettings, PlayoutSettings, Settings
from radio.episodes.episode import EpisodePaths
from radio.health import free_mb
from radio.messages import ErrorReport, OnAirNow, SegmentVoiced, WorkerStatus
from radio.store import Store
from radio.workers.playout import PlayoutWorker
from tests.onair.voicing import sentences
from tests.onair.voicing import voice_show as voice_lines
from tests.support.harness import BusProbe, running_worker
from tests.support.procs import radio
from tests.support.voices import corpus_paper, make_script, written

pytestmark = pytest.mark.slow

EPISODE_MB = 8.0  # each old episode's mp3


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[tuple[Path, float]]:
    """A folder on a small filesystem, and the reserve to keep free there (MB)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)],
                          capture_output=True, timeout=30)
    if done.returncode == 0:
        try:
            yield mount, 16.0
        finally:
            subprocess.run(["umount", "-l", str(mount)], capture_output=True, timeout=30)
    else:  # not root: the reserve is set just under what this disk has free
        yield mount, free_mb(mount) - 10.0


def old_episode(store: Store, data: DataRoot, show_id: str) -> Path:
    """A real mp3 of EPISODE_MB, published 200 days ago (past feed.keep_days)."""
    paths = EpisodePaths.of(data, show_id)
    data.episodes_dir.mkdir(parents=True, exist_ok=True)
    seconds = EPISODE_MB * 2**20 * 8 / 320_000
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    f"sine=f=330:d={seconds:.1f}", "-b:a", "320k", "-y", str(paths.mp3)],
                   check=True, timeout=120)
    root = data.root
    published = (datetime.now(UTC) - timedelta(days=200)).isoformat()
    store.save_episode(show_id, show_id, *(p.relative_to(root).as_posix() for p in paths.all()),
                       seconds, paths.mp3.stat().st_size, -16.0, published)
    return paths.mp3


def fill_to(folder: Path, free_left_mb: float) -> Path:
    filler = folder / "filler.bin"
    size = int((free_mb(folder) - free_left_mb) * 2**20)
    with filler.open("wb") as out:
        out.truncate(0)
        for _ in range(size // 2**20):
            out.write(b"\0" * 2**20)
    return filler


async def until(check, timeout: float, what: str) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if check():
            return time.monotonic() - began
        await asyncio.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


async def test_a_full_disk_holds_new_work_and_the_air_plays_on(
        settings: Settings, corpus: Path, small_disk: tuple[Path, float]) -> None:
    disk, reserve = small_disk
    cfg = settings.model_copy(update={
        "data_dir": disk / "data", "disk": DiskSettings(reserve_mb=reserve, check_s=0.5),
        "playout": PlayoutSettings(listen_bind=None, ident_text="Paper Radio.", bed_s=6.0)})
    cfg.writer.hosts[0].voice, cfg.writer.hosts[1].voice = "flite:rms", "flite:slt"
    data = DataRoot(cfg.data_dir)
    store = Store.open(cfg)
    episodes = [old_episode(store, data, f"daily-2026-0{n}-01") for n in (4, 5)]
    on_air = await asyncio.to_thread(voice_lines, data, "daily-before", sentences(corpus, 6))
    paper = corpus_paper("2604.26835")
    held = make_script("daily-held", paper, [("Alex", f"Next: {paper.title}."),
                                             ("Mira", paper.sentences[0])])
    async with running_worker("playout", cfg, instance="test") as playout, \
            running_worker("tts", cfg, instance="test") as tts, \
            BusProbe(cfg, ["errors", "audio/voiced", "onair/now", "status/tts/#"]) as probe:
        assert isinstance(playout, PlayoutWorker)
        for segment in on_air:
            await probe.publish(segment)
        filler = await asyncio.to_thread(fill_to, disk, reserve - 6.0)
        assert free_mb(disk) < reserve
        asked = time.time()
        await probe.publish(await asyncio.to_thread(written, data, held))

        def refused() -> list[ErrorReport]:
            return [e for e in probe.messages(ErrorReport) if e.worker == "tts"
                    and "disk nearly full" in e.reason and e.created_at.timestamp() >= asked]

        named = await until(refused, 10, "the tts worker to refuse for the disk")
        await until(lambda: any("disk nearly full" in (s.last_error or "")
                                for s in probe.messages(WorkerStatus, "status/tts/test")),
                    10, "the tts status to say why")
        await asyncio.sleep(6)  # held: nothing voiced, and the air goes on meanwhile
        assert not [s for s in probe.messages(SegmentVoiced) if s.show_id == held.show_id]
        assert not (data.show_dir(held.show_id) / "audio").exists()
        assert [m for m in probe.messages(OnAirNow) if m.mode == "live"]

        done = await asyncio.to_thread(radio, ["feed", "build"], cfg)  # the retention policy
        assert done.returncode == 0, done.stderr
        assert not any(p.exists() for p in episodes)
        assert free_mb(disk) > reserve
        freed = time.monotonic()
        await probe.expect(SegmentVoiced, timeout=60,
                           where=lambda s: s.show_id == held.show_id and s.last)
        resumed = time.monotonic() - freed
        assert tts.last_error is None or "disk" not in tts.last_error
        silence = playout.meter.report()
    store.close()
    filler.unlink()
    left = [p for p in cfg.data_dir.rglob("*") if p.name.endswith(".tmp")]
    print("disk:", {"refused_s": round(named, 1), "resumed_s": round(resumed, 1),
                    "silence": silence, "reserve_mb": round(reserve, 1)})
    assert left == [], left
    assert silence["longest_silence_s"] <= 2.0, silence
