"""Outputs never hold the clock: a stuck ffmpeg costs its own audio, not the timeline's.

A real ffmpeg encodes the fed PCM to an mp3 file; the test freezes it (SIGSTOP) the way
a stalled network would, and checks that feeding stays instant, that the output drops
its oldest audio within its bound, and that it restarts the child and carries on.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from pydantic import SecretStr

from radio.config import PlayoutSettings
from radio.playout import sounds
from radio.playout.icecast import IcecastOutput
from radio.playout.supervise import PcmOutput, pcm_input, redact
from tests.support.icecast import SOURCE_PASSWORD, Icecast

RATE = 24000


class FileOutput(PcmOutput):
    name = "file"

    def __init__(self, cfg: PlayoutSettings, folder: Path) -> None:
        super().__init__(cfg, [])
        self.folder = folder
        self.files: list[Path] = []

    def command(self) -> list[str]:
        self.files.append(self.folder / f"part{len(self.files)}.mp3")
        return ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error", *pcm_input(self.rate),
                "-c:a", "libmp3lame", "-b:a", "64k", "-flush_packets", "1", "-f", "mp3",
                str(self.files[-1])]


def wait_for(check, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


def size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


@pytest.mark.slow
def test_a_stuck_output_drops_and_restarts_without_blocking_the_feed(tmp_path: Path) -> None:
    cfg = PlayoutSettings(output_buffer_s=1.0)
    output = FileOutput(cfg, tmp_path)
    output.stuck_s = 2.0
    chunk = sounds.to_s16(0.3 * np.sin(np.linspace(0, 2 * np.pi * 44, RATE // 10)))
    slowest, stop = [0.0], threading.Event()

    def clock() -> None:  # feeds in real time, like the timeline
        while not stop.is_set():
            started = time.monotonic()
            output.feed(chunk)
            slowest[0] = max(slowest[0], time.monotonic() - started)
            stop.wait(0.1)

    output.start()
    feeder = threading.Thread(target=clock, daemon=True)
    feeder.start()
    try:
        assert wait_for(lambda: output.files and size(output.files[0]) > 0, 20)
        frozen = output.proc
        assert frozen is not None
        os.kill(frozen.pid, signal.SIGSTOP)  # the consumer stops taking audio
        assert wait_for(lambda: output.dropped_bytes > 0, 10), "a stuck output drops audio"
        assert output.buffered <= output.max_bytes
        assert wait_for(lambda: frozen.poll() is not None, 10), "the stuck child is killed"
        assert wait_for(lambda: output.restarts >= 1 and len(output.files) == 2, 15)
        assert wait_for(lambda: size(output.files[1]) > 2000, 15), "audio flows again"
        assert slowest[0] < 0.05, f"feed() blocked for {slowest[0]:.3f}s"
    finally:
        stop.set()
        feeder.join()
        output.stop()
    assert output.proc is None or output.proc.poll() is not None


class CountedWaits(threading.Event):
    """A stop event whose waits return at once, recorded; set after `count` of them."""

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count
        self.waits: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout)
        if len(self.waits) >= self.count:
            self.set()
        return self.is_set()


class MissingOutput(PcmOutput):
    name = "missing"

    def command(self) -> list[str]:
        return ["/nonexistent/ffmpeg"]


def test_a_dead_output_is_restarted_after_1_2_4_then_every_5_s() -> None:
    """The supervisor's back-off: a server that returns is used again within seconds."""
    output = MissingOutput(PlayoutSettings(), [])
    output._stop = stop = CountedWaits(5)
    output._run()
    assert stop.waits == [1.0, 2.0, 4.0, 5.0, 5.0]
    assert output.restarts == 4 and "cannot start ffmpeg" in output.errors[-1]


def test_secrets_are_redacted_in_what_is_logged() -> None:
    line = "rtmp://live.example/app/sk_live_12%2F34 icecast://source:p%40ss@host:8000/radio.mp3"
    text = redact(line, ["sk_live_12/34", "p@ss"])
    assert "sk_live" not in text and "p%40ss" not in text
    assert text == "rtmp://live.example/app/*** icecast://source:***@host:8000/radio.mp3"


@pytest.mark.parametrize("right_password", [False, True])
@pytest.mark.slow
def test_icecast_source_password_stays_off_the_command_line(tmp_path: Path,
                                                            right_password: bool) -> None:
    """A wrong password is a clear error; the right one mounts; argv never holds either."""
    password = SOURCE_PASSWORD if right_password else "not-the-password"
    chunk = sounds.to_s16(0.3 * np.sin(np.linspace(0, 2 * np.pi * 44, RATE // 10)))
    with Icecast(tmp_path / "icecast") as icecast:
        cfg = PlayoutSettings(sample_rate=RATE, icecast_url=icecast.source_url(),
                              icecast_password=SecretStr(password))
        output = IcecastOutput(cfg, "Paper Radio", "test")
        assert password not in " ".join(output.command())

        def settled() -> bool:
            output.feed(chunk)
            if not right_password:
                return bool(output.errors)
            return any(s.get("listenurl", "").endswith("/radio.mp3") for s in icecast.sources())

        output.start()
        try:
            assert wait_for(settled, 20), output.status()
        finally:
            output.stop()
    if not right_password:
        assert "refused the source" in output.errors[-1] and "401" in output.errors[-1]
        assert password not in output.errors[-1]
