"""The real embedding model and a fresh store; the parsed corpus papers come from
tests/support/understanding.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from radio.backends.embedder import Embedder, load_embedder
from radio.config import EmbedderSettings
from radio.store import Store
from tests.support.understanding import corpus_papers  # noqa: F401 (a session fixture)


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return load_embedder(EmbedderSettings())


@pytest.fixture
def store(tmp_path: Path) -> Store:
    db = Store(tmp_path / "radio.sqlite3")
    yield db
    db.close()
