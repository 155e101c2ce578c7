"""Chapters: one per paper, shared by the ID3 tags and the Podcasting 2.0 JSON.

A chapter starts where its paper is first discussed and runs until the next paper's
chapter starts; the last one ends with the last line about any paper, so the intro
and outro belong to no chapter. A paper that comes back later (a recap) does not
open a second chapter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from radio.artifacts import write_atomic
from radio.episodes.assemble import EpisodeCue

CHAPTERS_VERSION = "1.2.0"  # Podcasting 2.0 JSON chapters format


@dataclass(frozen=True)
class Chapter:
    paper_id: str
    title: str
    start_s: float
    end_s: float

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.paper_id}"


def chapters_from_cues(cues: list[EpisodeCue], titles: dict[str, str]) -> list[Chapter]:
    """One chapter per paper, in order of first appearance."""
    starts: dict[str, float] = {}
    last_end = 0.0
    for cue in cues:
        paper = cue.segment.paper_id
        if paper:
            starts.setdefault(paper, cue.start_s)
            last_end = cue.end_s
    ordered = list(starts.items())
    chapters = []
    for index, (paper, start) in enumerate(ordered):
        end = ordered[index + 1][1] if index + 1 < len(ordered) else last_end
        chapters.append(Chapter(paper, titles.get(paper) or f"arXiv:{paper}", start, end))
    return chapters


def render_chapters_json(chapters: list[Chapter]) -> str:
    return json.dumps({
        "version": CHAPTERS_VERSION,
        "chapters": [
            {"startTime": round(c.start_s, 3), "endTime": round(c.end_s, 3), "title": c.title,
             "url": c.url}
            for c in chapters
        ],
    }, indent=2, ensure_ascii=False)


def write_chapters_json(chapters: list[Chapter], target: Path) -> Path:
    return write_atomic(target, render_chapters_json(chapters))


def read_chapters_json(path: Path) -> list[dict]:
    """The chapters of a recorded episode (for the feed's description)."""
    try:
        return list(json.loads(path.read_text())["chapters"])
    except (OSError, ValueError, KeyError, TypeError):
        return []
