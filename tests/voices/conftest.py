"""Real script lines for the voices: sentences from corpus papers' abstracts.

The abstracts come from a recorded arXiv API response in the shared corpus (arXiv
metadata, CC0); nothing here is invented but the hosts' connecting words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import feedparser
import pytest

from radio.artifacts import DataRoot, parse_arxiv_id
from radio.messages import ShowWritten
from radio.shows.script import Line, Rundown, Script, Segment, Slot, save_script
from tests.conftest import CORPUS

FEED = CORPUS / "api" / "cat_csLG_OR_csAI_max20_2026-04-30.xml"


@dataclass(frozen=True)
class Paper:
    arxiv_id: str
    title: str
    sentences: list[str]


def corpus_paper(arxiv_id: str) -> Paper:
    for entry in feedparser.parse(str(FEED)).entries:
        if parse_arxiv_id(entry.id)[0] == arxiv_id:
            abstract = " ".join(entry.summary.split())
            sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z])", abstract)
            return Paper(arxiv_id, " ".join(entry.title.split()), sentences)
    raise LookupError(f"{arxiv_id} is not in {FEED.name}")


@pytest.fixture(scope="session")
def paper() -> Paper:
    """HalluCiteChecker (2604.26835): plain sentences with AI, NLP, CPUs, PyPI in them."""
    return corpus_paper("2604.26835")


@pytest.fixture(scope="session")
def numbers_paper() -> Paper:
    """SPIN (2604.26837): ranges, multipliers, percentages and acronyms."""
    return corpus_paper("2604.26837")


def make_script(show_id: str, paper: Paper, lines: list[tuple[str, str]]) -> Script:
    slot = Slot(kind="discussion", title=paper.title, budget_s=60.0)
    rundown = Rundown(show_id=show_id, kind="daily", title="Paper Radio test", date="2026-04-30",
                      length_s=60, slots=[slot])
    segment = Segment(slot=slot, source="extractive", lines=[
        Line(speaker=speaker, text=text, paper_id=paper.arxiv_id) for speaker, text in lines])
    return Script(show_id=show_id, kind="daily", title="Paper Radio test", date="2026-04-30",
                  model="test", words_per_minute=150, rundown=rundown, segments=[segment])


def written(data: DataRoot, script: Script) -> ShowWritten:
    """Save the script where the writer does and describe it as the writer would."""
    path = save_script(data, script)
    return ShowWritten(show_id=script.show_id, kind=script.kind, title=script.title,
                       script=data.artifact(path), lines=len(script.lines),
                       estimated_s=script.estimated_s, paper_ids=[s.paper_id for s in
                                                                  script.lines if s.paper_id][:1])


@pytest.fixture
def data_root(tmp_path: Path) -> DataRoot:
    return DataRoot(tmp_path / "data")
