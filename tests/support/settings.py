"""Settings every test starts from: a fresh data dir, a free port for each server."""

from __future__ import annotations

from pathlib import Path

from radio.config import BusSettings, PlayoutSettings, Settings
from tests.support.ports import free_port

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"

# Short waits where a test does not measure the spacing itself (the 3 s rule is measured
# in tests/ingest/test_fetcher_polite.py with the default settings).
FAST_FETCH = {"min_request_interval_s": 0.05, "backoff_base_s": 0.1, "max_backoff_s": 5.0,
              "max_attempts": 3, "request_timeout_s": 10.0}


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    bus = overrides.pop("bus", None) or BusSettings(embedded_port=free_port(), heartbeat_s=1.0)
    # The listener stream gets a free port, so tests running side by side never compete.
    overrides.setdefault("playout", PlayoutSettings(listen_bind=f"127.0.0.1:{free_port()}"))
    return Settings(data_dir=data_dir, bus=bus, **overrides)
