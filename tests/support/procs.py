"""Run `radio` commands as separate OS processes, the way an operator would."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from radio.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def radio_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADIO_")}
    env.update(
        RADIO_CONFIG=str(settings.data_dir / "none.toml"),
        RADIO_DATA_DIR=str(settings.data_dir),
        RADIO_BUS__EMBEDDED_PORT=str(settings.bus.embedded_port),
        RADIO_BUS__HEARTBEAT_S=str(settings.bus.heartbeat_s),
        RADIO_BUS__KEEPALIVE_S="5",
        PYTHONPATH=str(ROOT),
    )
    if settings.broker_url is not None:
        env["RADIO_BROKER_URL"] = settings.broker_url.get_secret_value()
    env.update(extra)
    return env


def spawn(args: list[str], settings: Settings, log: Path, **extra: str) -> subprocess.Popen:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen([sys.executable, "-m", "radio", *args], cwd=ROOT,
                            env=radio_env(settings, **extra), stdout=log.open("ab"),
                            stderr=subprocess.STDOUT)


def radio(args: list[str], settings: Settings, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "radio", *args], cwd=ROOT,
                          env=radio_env(settings), capture_output=True, text=True,
                          timeout=timeout)


def statuses(settings: Settings) -> dict[str, dict]:
    """`radio status --json`, keyed by worker/instance."""
    done = radio(["status", "--json", "--wait", "1"], settings)
    if done.returncode != 0:
        raise RuntimeError(f"radio status failed: {done.stderr}")
    return {f"{s['worker']}/{s['instance']}": s for s in json.loads(done.stdout or "[]")}


def wait_for(predicate, timeout: float, interval: float = 0.5, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15) -> float:
    """Signal a process and return how long it took to exit."""
    start = time.monotonic()
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise
    return time.monotonic() - start
