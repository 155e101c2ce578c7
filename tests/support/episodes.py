"""One recorded episode, as the episode, feed and web tests share it."""

from __future__ import annotations

from dataclasses import dataclass

from radio.config import Settings
from radio.episodes.episode import Episode
from radio.messages import SegmentVoiced
from radio.worker import Context
from tests.episodes.voicing import Line, Paper

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


def insert_episode(ctx: Context, episode: Episode, published_at: str | None = None) -> None:
    """The row the recorder writes (for feed and web tests that skip the bus)."""
    root = ctx.data.root
    ctx.store.delete_episode(episode.show_id)
    ctx.store.save_episode(
        episode.show_id, episode.title, episode.paths.mp3.relative_to(root).as_posix(),
        episode.paths.transcript.relative_to(root).as_posix(),
        episode.paths.chapters.relative_to(root).as_posix(), episode.duration_s,
        episode.paths.mp3.stat().st_size, episode.loudness_lufs, published_at)
