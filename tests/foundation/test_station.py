"""`radio up` runs every worker in one process; `radio status` sees them; SIGTERM stops it."""

from __future__ import annotations

import signal
import socket
import subprocess
from pathlib import Path

import pytest

from radio import workers
from radio.config import Settings
from tests.support.arxiv_standin import ArxivStandIn
from tests.support.ports import free_port
from tests.support.procs import radio, spawn, statuses, stop, wait_for
from tests.support.settings import make_settings


@pytest.mark.slow
def test_radio_up_status_and_clean_stop(tmp_path: Path) -> None:
    cfg = make_settings(tmp_path / "data")
    cfg.bus.embedded_port = free_port()
    with ArxivStandIn() as arxiv:  # the fetcher polls at start: never real arXiv
        _up_status_and_clean_stop(tmp_path, cfg, arxiv.env())


def _up_status_and_clean_stop(tmp_path: Path, cfg: Settings, env: dict[str, str]) -> None:
    listen = f"127.0.0.1:{free_port()}"
    station = spawn(["up"], cfg, tmp_path / "up.log", RADIO_HTTP_BIND=f"127.0.0.1:{free_port()}",
                    RADIO_PLAYOUT__LISTEN_BIND=listen, **env)
    try:
        def all_up() -> dict | None:
            assert station.poll() is None, (
                f"radio up exited ({station.returncode}):\n"
                + (tmp_path / "up.log").read_text(errors="replace")[-3000:])
            try:
                found = statuses(cfg)
            except RuntimeError:
                return None
            states = {s["worker"]: s["state"] for s in found.values()}
            ready = all(states.get(n) == "online" for n in workers.WORKERS)
            return found if ready else None

        found = wait_for(all_up, 240, interval=2, what="every worker online")
        by_worker = {s["worker"]: s for s in found.values()}
        assert set(by_worker) == set(workers.WORKERS)
        for name, status in by_worker.items():
            assert status["state"] == "online", name
        # On air with no Icecast: a listener's player opens the station's own mp3 stream.
        heard = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name",
                                "-of", "csv=p=0", f"http://{listen}/radio.mp3"],
                               capture_output=True, text=True, timeout=60)
        assert heard.stdout.split() == ["mp3"], heard.stderr
        took = stop(station, signal.SIGTERM, timeout=20)
        assert station.returncode == 0, (tmp_path / "up.log").read_text()[-3000:]
        assert took < 10, f"SIGTERM took {took:.1f}s"
    finally:
        stop(station, signal.SIGKILL)


@pytest.mark.slow
def test_version_and_unknown_worker(tmp_path: Path) -> None:
    cfg = make_settings(tmp_path / "data")
    assert radio(["--version"], cfg).stdout.startswith("radio ")
    bad = radio(["worker", "nonsense"], cfg)
    assert bad.returncode != 0 and "unknown worker" in bad.stderr


def test_status_without_broker_is_a_clear_error(tmp_path: Path) -> None:
    cfg = make_settings(tmp_path / "data")
    cfg.bus.embedded_port = free_port()  # nothing listens there
    done = radio(["status", "--wait", "0.5"], cfg)
    assert done.returncode != 0 and "cannot reach the broker" in done.stderr


def test_second_station_on_the_same_port_is_a_clear_error(tmp_path: Path) -> None:
    cfg = make_settings(tmp_path / "data")
    cfg.bus.embedded_port = free_port()
    with socket.create_server(("127.0.0.1", cfg.bus.embedded_port)):  # "another radio up"
        done = radio(["up", "--only", "scheduler"], cfg)
    assert done.returncode == 2, done.stderr
    assert "cannot listen on 127.0.0.1" in done.stderr and "Traceback" not in done.stderr
