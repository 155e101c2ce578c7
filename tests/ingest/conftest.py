"""Fixtures of the ingest tests: the arXiv stand-in and settings that point at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from radio.config import Settings
from tests.support.arxiv_standin import ArxivStandIn
from tests.support.settings import FAST_FETCH, make_settings


@pytest.fixture
def standin() -> Iterator[ArxivStandIn]:
    with ArxivStandIn() as server:
        yield server


@pytest.fixture
def offline_settings(tmp_path: Path, standin: ArxivStandIn) -> Settings:
    """Settings on the stand-in, no broker (for tests that do not touch the bus)."""
    return standin.configure(make_settings(tmp_path / "data"), **FAST_FETCH)
