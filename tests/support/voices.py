"""Real script lines for the voices: sentences from corpus papers' abstracts.

The abstracts come from a recorded arXiv API response in the shared corpus (arXiv
metadata, CC0); nothing here is invented but the hosts' connecting words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import feedparser

from radio.artifacts import DataRoot, parse_arxiv_id
from radio.config import Settings
from radio.messages import SegmentVoiced, ShowWritten
from radio.shows.script import Block, Line, Rundown, Script, Slot, save_script
from tests.support.harness import BusProbe
from tests.support.settings import CORPUS

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


def make_script(show_id: str, paper: Paper, lines: list[tuple[str, str]]) -> Script:
    slot = Slot(kind="discussion", title=paper.title, budget_s=60.0)
    rundown = Rundown(show_id=show_id, kind="daily", title="Paper Radio test", date="2026-04-30",
                      length_s=60, slots=[slot])
    segment = Block(slot=slot, source="extractive", lines=[
        Line(speaker=speaker, text=text, paper_id=paper.arxiv_id) for speaker, text in lines])
    return Script(show_id=show_id, kind="daily", title="Paper Radio test", date="2026-04-30",
                  model="test", words_per_minute=150, rundown=rundown, blocks=[segment])


def written(data: DataRoot, script: Script) -> ShowWritten:
    """Save the script where the writer does and describe it as the writer would."""
    path = save_script(data, script)
    return ShowWritten(show_id=script.show_id, kind=script.kind, title=script.title,
                       script=data.artifact(path), lines=len(script.lines),
                       estimated_s=script.estimated_s,
                       paper_ids=list(dict.fromkeys(s.paper_id for s in script.lines
                                                    if s.paper_id)))


async def voice_show(settings: Settings, script: Script, timeout: float = 120.0,
                     ) -> tuple[list[SegmentVoiced], BusProbe]:
    """Publish the script as the writer would; wait for its last segment."""
    data = DataRoot(settings.data_dir)
    message = written(data, script)
    async with BusProbe(settings, ["audio/voiced", "errors"]) as probe:
        await probe.publish(message)
        await probe.expect(SegmentVoiced, timeout=timeout, where=lambda m: m.last)
    return probe.messages(SegmentVoiced), probe
