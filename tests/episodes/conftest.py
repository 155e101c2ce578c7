"""One episode, recorded once per test session from a flite-voiced show of real corpus papers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from radio.config import Settings
from radio.episodes.episode import Episode, collect_segments, record_episode
from radio.messages import SegmentVoiced
from radio.worker import Context
from tests.conftest import CORPUS
from tests.episodes.voicing import (
    Line,
    Paper,
    corpus_papers,
    script_for,
    store_segments,
    store_show,
    voice_show,
)

SHOW_ID = "daily-2026-04-30"
SHOW_TITLE = "Daily papers, 30 April 2026"


@dataclass
class Recorded:
    settings: Settings
    ctx: Context
    papers: list[Paper]
    lines: list[Line]
    messages: list[SegmentVoiced]
    episode: Episode


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


def insert_episode(ctx: Context, episode: Episode, published_at: str | None = None) -> None:
    """The row the recorder writes (for feed and web tests that skip the bus)."""
    root = ctx.data.root
    ctx.store.delete_episode(episode.show_id)
    ctx.store.save_episode(
        episode.show_id, episode.title, episode.paths.mp3.relative_to(root).as_posix(),
        episode.paths.transcript.relative_to(root).as_posix(),
        episode.paths.chapters.relative_to(root).as_posix(), episode.duration_s,
        episode.paths.mp3.stat().st_size, episode.loudness_lufs, published_at)
