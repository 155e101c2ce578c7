"""Fixtures of the ingest tests: the arXiv stand-in and settings that point at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from radio.config import Settings
from tests.conftest import make_settings
from tests.support.arxiv_standin import ArxivStandIn

# Short waits where a test does not measure the spacing itself (the 3 s rule is measured
# in test_fetcher_polite.py with the default settings).
FAST = {"min_request_interval_s": 0.05, "backoff_base_s": 0.1, "max_backoff_s": 5.0,
        "max_attempts": 3, "request_timeout_s": 10.0}


@pytest.fixture
def standin() -> Iterator[ArxivStandIn]:
    with ArxivStandIn() as server:
        yield server


@pytest.fixture
def offline_settings(tmp_path: Path, standin: ArxivStandIn) -> Settings:
    """Settings on the stand-in, no broker (for tests that do not touch the bus)."""
    return standin.configure(make_settings(tmp_path / "data"), **FAST)
