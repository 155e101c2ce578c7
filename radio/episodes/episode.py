"""One episode from one show: collect its voiced lines, then write every file.

Files under `episodes/`, named by the show id: `<show_id>.mp3` (tagged, with
chapters), `<show_id>.vtt` (transcript) and `<show_id>.chapters.json`. Each is
written to a temp file and renamed, so a reader never sees half an episode.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from radio.artifacts import DataRoot, atomic_path, safe_show_id
from radio.config import Settings
from radio.episodes.assemble import Segment, assemble
from radio.episodes.chapters import Chapter, chapters_from_cues, write_chapters_json
from radio.episodes.cover import write_cover
from radio.episodes.tags import write_tags
from radio.episodes.transcript import write_vtt
from radio.store import Store

log = logging.getLogger(__name__)

AI_DISCLOSURE = ("Written and voiced by AI from arXiv papers: the hosts are synthetic "
                 "voices, and they can be wrong. Check a paper before you cite it.")


@dataclass(frozen=True)
class EpisodePaths:
    mp3: Path
    transcript: Path
    chapters: Path

    @classmethod
    def of(cls, data: DataRoot, show_id: str) -> EpisodePaths:
        base = data.episodes_dir / safe_show_id(show_id)
        return cls(base.with_name(f"{base.name}.mp3"), base.with_name(f"{base.name}.vtt"),
                   base.with_name(f"{base.name}.chapters.json"))

    def all(self) -> tuple[Path, Path, Path]:
        return self.mp3, self.transcript, self.chapters


@dataclass(frozen=True)
class Episode:
    show_id: str
    title: str
    date: str
    paths: EpisodePaths
    chapters: list[Chapter]
    duration_s: float
    loudness_lufs: float
    true_peak_db: float


def collect_segments(store: Store, data: DataRoot, show_id: str,
                     total: int) -> list[Segment] | None:
    """The show's voiced lines in seq order, or None while some are still missing."""
    rows = store.segments(show_id, voiced=True)
    if len(rows) < total:
        return None
    return [Segment(seq=r["seq"], audio=data.resolve(r["audio_path"]), speaker=r["speaker"],
                    text=r["text"], paper_id=r["paper_id"]) for r in rows[:total]]


def show_title_and_date(store: Store, settings: Settings, show_id: str) -> tuple[str, str]:
    row = store.show(show_id)
    if row is None:
        return f"{settings.feed.title}: {show_id}", datetime.now(UTC).date().isoformat()
    title = row["title"] or f"{row['kind'].replace('_', ' ').title()} show, {row['date']}"
    return title, row["date"]


def paper_titles(store: Store, paper_ids: set[str]) -> dict[str, str]:
    if not paper_ids:
        return {}
    return {arxiv_id: " ".join(title.split())
            for arxiv_id, title in store.paper_titles(paper_ids).items()}


def cover_path(data: DataRoot, settings: Settings) -> Path:
    """The show's cover art, drawn on first use."""
    path = data.feed_dir / "cover.png"
    if not path.is_file():
        write_cover(path, settings.feed.title, "New AI papers from arXiv, read aloud")
    return path


def record_episode(store: Store, data: DataRoot, settings: Settings, show_id: str,
                   segments: list[Segment]) -> Episode:
    """Assemble, tag and write the episode's files; return what was made."""
    title, date = show_title_and_date(store, settings, show_id)
    paths = EpisodePaths.of(data, show_id)
    titles = paper_titles(store, {s.paper_id for s in segments if s.paper_id})
    with atomic_path(paths.mp3) as tmp:
        made = assemble(segments, tmp, target_lufs=settings.recorder.target_lufs,
                        bitrate=settings.recorder.bitrate, gap_s=settings.recorder.line_gap_s)
        chapters = chapters_from_cues(made.cues, titles)
        write_tags(tmp, title=title, show=settings.feed.title, artist=settings.feed.author,
                   date=date, chapters=chapters, cover_png=cover_path(data, settings),
                   comment=AI_DISCLOSURE)
    write_vtt(made.cues, paths.transcript)
    write_chapters_json(chapters, paths.chapters)
    log.info("episode %s: %.1f s, %.2f LUFS, %d chapters", show_id, made.duration_s,
             made.loudness.integrated_lufs, len(chapters))
    return Episode(show_id=show_id, title=title, date=date, paths=paths, chapters=chapters,
                   duration_s=made.duration_s, loudness_lufs=made.loudness.integrated_lufs,
                   true_peak_db=made.loudness.true_peak_db)


def save_episode(store: Store, data: DataRoot, episode: Episode) -> bool:
    """Record the episode; False if the show already has one (another recorder was first)."""
    mp3, transcript, chapters = (p.relative_to(data.root).as_posix() for p in episode.paths.all())
    return store.save_episode(episode.show_id, episode.title, mp3, transcript, chapters,
                              episode.duration_s, episode.paths.mp3.stat().st_size,
                              episode.loudness_lufs)
