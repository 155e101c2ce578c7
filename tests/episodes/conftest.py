"""One episode, recorded once per test session from a flite-voiced show of real corpus papers."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from radio.config import Settings
from radio.episodes.episode import collect_segments, record_episode
from radio.worker import Context
from tests.episodes.voicing import (
    corpus_papers,
    script_for,
    store_segments,
    store_show,
    voice_show,
)
from tests.support.episodes import SHOW_ID, SHOW_TITLE, Recorded
from tests.support.settings import CORPUS


@pytest.fixture(scope="session")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    with pytest.MonkeyPatch.context() as patch:  # hermetic, as tests/conftest.py is per test
        patch.setenv("RADIO_CONFIG", str(tmp_path_factory.mktemp("cfg") / "none.toml"))
        settings = Settings(data_dir=tmp_path_factory.mktemp("episode") / "data")
    ctx = Context.from_settings(settings)
    papers = corpus_papers(CORPUS, 3)
    lines = script_for(papers)
    messages = voice_show(ctx.data, SHOW_ID, lines)
    store_show(ctx.store, SHOW_ID, SHOW_TITLE, papers)
    store_segments(ctx.store, messages)
    segments = collect_segments(ctx.store, ctx.data, SHOW_ID, len(lines))
    assert segments is not None
    episode = record_episode(ctx.store, ctx.data, settings, SHOW_ID, segments)
    yield Recorded(settings, ctx, papers, lines, messages, episode)
    ctx.store.close()
