"""Shared fixtures: hermetic settings, a running embedded broker, a real mosquitto."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from radio.broker import EmbeddedBroker
from radio.config import Settings, get_settings
from radio.worker import Context
from tests.support.mosquitto import Mosquitto
from tests.support.postgres import database_url, postgres_server  # noqa: F401 (fixtures)
from tests.support.settings import CORPUS, make_settings


@pytest.fixture(autouse=True)
def _hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's config file or RADIO_* variables."""
    import os

    for key in list(os.environ):
        if key.startswith("RADIO_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("RADIO_CONFIG", str(tmp_path / "no-config.toml"))
    get_settings.cache_clear()


@pytest.fixture
async def settings(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Settings]:
    """Settings on a fresh data dir, with an embedded broker running on a free port. A test
    that also asks for `database_url` runs on SQLite and on PostgreSQL."""
    cfg = make_settings(tmp_path / "data")
    if "database_url" in request.fixturenames:
        cfg = cfg.model_copy(update={"database_url": request.getfixturevalue("database_url")})
    broker = EmbeddedBroker(cfg.bus.embedded_port)
    await broker.start()
    try:
        yield cfg
    finally:
        await broker.stop()


@pytest.fixture
def ctx(settings: Settings) -> Iterator[Context]:
    context = Context.from_settings(settings)
    yield context
    context.store.close()


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    broker = Mosquitto(tmp_path / "mosquitto").start()
    try:
        yield broker
    finally:
        broker.stop()


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.fail(f"the shared corpus is missing at {CORPUS}")
    return CORPUS
