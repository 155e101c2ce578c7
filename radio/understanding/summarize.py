"""A paper's fact sheet, and the summary that is read off it.

1. The paper's text is cut into chunks (references dropped).
2. Retrieval over the paper's own chunks picks the passages that speak to the problem, the
   method, the results and the limits, plus the opening; they are numbered after the
   abstract ([1]) and trimmed to the context window.
3. One constrained call writes the fact sheet (radio.understanding.facts): every fact cites
   the passages it rests on, and is checked against them; a sheet left with neither its
   problem nor its key idea is asked for once more.
4. Facts that copy the paper are said again in the model's own words (one more call);
   each restatement passes the same checks or the fact stays as it was.
5. The summary (hook, short, deep, key points) that the feed, the web page and the CLI show
   is read off the checked facts: nothing the checks dropped.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from radio.backends.embedder import Embedder
from radio.backends.llm import LLM, LLMError, chat_json
from radio.config import LLMSettings, SamplingSettings
from radio.understanding.chunks import (
    Chunk,
    clean,
    embed_chunks,
    make_chunks,
    select_passages,
    sentences,
)
from radio.understanding.facts import (
    FACTS_SCHEMA,
    PLAIN_FACTS,
    WIRE,
    Fact,
    FactSheet,
    Passage,
    SheetBuilder,
    number_passages,
)
from radio.understanding.prompts import render

log = logging.getLogger(__name__)

PROMPT_OVERHEAD_TOKENS = 700  # system prompt, instructions and the JSON scaffolding
_MEASURED = re.compile(r"\d+\.\d+|\d+(?:\.\d+)?\s*%")  # 290.82, 45%: a result's numbers


class DeepSummary(BaseModel):
    problem: str
    method: str
    results: str = Field(description="Main findings with their numbers.")
    limits: str


class Summary(BaseModel):
    hook: str = Field(min_length=1)
    short: str = Field(min_length=1)
    deep: DeepSummary
    key_points: list[str]


class Grounding(BaseModel):
    rate: float = Field(description="Share of the model's facts that passed the checks.")
    checked: int
    dropped: list[str] = Field(description="Facts removed because the passages lack them.")
    unsupported: list[str] = Field(description="Claims not found in the paper.")
    attempts: int


class SummaryRecord(BaseModel):
    """What is stored (table `summaries`, and papers/<id>/summary.json)."""

    arxiv_id: str
    version: int
    title: str
    model: str
    mode: Literal["single", "map_reduce", "for_show"]  # for_show: the writer read it first
    passages: list[int] = Field(description="Chunks the summary read, by position.")
    summary: Summary
    facts: FactSheet | None = Field(None, description="The checked facts the summary is "
                                    "read from, and the shows are written from.")
    grounding: Grounding
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class PaperText(BaseModel):
    """A paper as the summarizer reads it: its text (a paper in a show is radio.shows' Paper)."""

    arxiv_id: str
    version: int
    title: str
    abstract: str
    text: str = Field(description="text.txt of the pdf worker: no references.")
    sections: dict | None = None  # sections.json of the pdf worker, when there is one


# --- generation --------------------------------------------------------------------------


def within(passages: list[Passage], budget: int,
           count_tokens: Callable[[str], int]) -> list[Passage]:
    """The passages that fit the prompt's budget, the abstract first, in the paper's order."""
    kept: list[Passage] = []
    used = 0
    for passage in passages:
        used += count_tokens(passage.text) + 12
        if used > budget and kept:
            break
        kept.append(passage)
    return kept


def with_numbers(chunks: list[Chunk], chosen: list[Chunk]) -> list[Chunk]:
    """The chosen passages plus the one richest in measurements (a results table), which
    retrieval by meaning tends to miss, so results have numbers to come from."""
    rich = max(chunks, key=lambda c: len(_MEASURED.findall(c.text)), default=None)
    if rich is None or rich in chosen or len(_MEASURED.findall(rich.text)) < 3:
        return chosen
    return sorted([*chosen, rich], key=lambda c: c.index)


def summary_from(sheet: FactSheet, paper: PaperText) -> Summary:
    """What listeners read about a paper, from its checked facts (the abstract's opening
    where a fact is missing)."""
    def text(fact) -> str:
        return fact.text if fact is not None else ""

    opening = " ".join(sentences(clean(paper.abstract))[:2]) or paper.title
    short = " ".join(t for t in (text(sheet.problem), text(sheet.key_idea)) if t)
    points = [r.text for r in sheet.results] + [t for t in (text(sheet.why_it_matters),) if t]
    return Summary(
        hook=text(sheet.why_it_matters) or text(sheet.key_idea) or paper.title,
        short=short or opening,
        deep=DeepSummary(problem=" ".join(t for t in (text(sheet.problem),
                                                      text(sheet.why_hard)) if t),
                         method=text(sheet.key_idea),
                         results=" ".join(r.text for r in sheet.results),
                         limits=text(sheet.limitation)),
        key_points=points)


class Summarizer:
    def __init__(self, llm: LLM, embedder: Embedder, settings: LLMSettings) -> None:
        self.llm, self.embedder, self.settings = llm, embedder, settings

    def count_tokens(self, text: str) -> int:
        return self.llm.count_tokens(text)

    @property
    def passage_budget(self) -> int:
        return self.llm.n_ctx - self.settings.summary.max_tokens - PROMPT_OVERHEAD_TOKENS

    def chunks(self, paper: PaperText) -> tuple[list[Chunk], np.ndarray]:
        """The paper's chunks and their vectors (the embeddings worker keeps them)."""
        chunks = make_chunks(paper.text, paper.sections, self.settings.chunk_words)
        return chunks, embed_chunks(chunks, self.embedder)

    def summarize(self, paper: PaperText, chunked: tuple[list[Chunk], np.ndarray] | None = None,
                  ) -> SummaryRecord:
        chunks, vectors = chunked or self.chunks(paper)
        chosen = with_numbers(chunks, select_passages(
            chunks, self.embedder, self.settings.summary_passages, vectors))
        budget = self.passage_budget - self.count_tokens(paper.title)
        passages = within(number_passages(paper.abstract, chosen), budget, self.count_tokens)
        builder = SheetBuilder(paper.title, [], passages, f"{paper.abstract}\n{paper.text}")
        sheet, attempts = None, 0
        while attempts <= self.settings.summary_regenerations:
            attempts += 1
            sheet = builder.build(self._write(paper, passages))
            if sheet.problem is not None or sheet.key_idea is not None:
                break  # asked again only when nearly nothing survived the checks
        assert sheet is not None
        sheet = restate_copies(self.llm, self.settings.summary, builder, sheet)
        proposed = len(sheet.facts()) + len(builder.dropped)
        return SummaryRecord(
            arxiv_id=paper.arxiv_id, version=paper.version, title=paper.title,
            model=self.llm.name, mode="single",
            passages=[p.chunk for p in passages if p.chunk is not None],
            summary=summary_from(sheet, paper), facts=sheet,
            grounding=Grounding(rate=len(sheet.facts()) / proposed if proposed else 1.0,
                                checked=proposed, dropped=builder.dropped,
                                unsupported=[], attempts=attempts))

    def _write(self, paper: PaperText, passages: list[Passage]) -> dict:
        return ask_for_facts(self.llm, self.settings.summary, paper.title, passages)


def ask_for_facts(llm: LLM, sampling: SamplingSettings, title: str,
                  passages: list[Passage]) -> dict:
    """The model's fact sheet of a paper, as JSON that fits FACTS_SCHEMA (unchecked)."""
    user = render("facts_user.j2", title=title, passages=passages, wire=WIRE)
    messages = [{"role": "system", "content": render("summary_system.j2")},
                {"role": "user", "content": user}]
    return chat_json(llm, messages, sampling=sampling, schema=FACTS_SCHEMA)


RESTATED_WORDS = 11  # one short sentence, too short to hold 12 words of the paper in a row


def restate_copies(llm: LLM, sampling: SamplingSettings, builder: SheetBuilder,
                   sheet: FactSheet) -> FactSheet:
    """The sheet with the facts the model copied from the paper said again in its own
    words, in one call; a restatement that fails the fact's checks leaves the fact as it
    was. A copied fact is what the hosts' lines then copy, to be refused as copies and
    asked for again: in a bench show, 15 drafted lines of 28 calls were refused as copies."""
    copied = [(f"fact_{n}", fact) for n, (_, fact) in enumerate(sheet.facts(), 1)
              if fact.copied]
    if not copied:
        return sheet
    schema = {"type": "object", "properties": {
        key: {"type": "string", "minLength": 10, "maxLength": RESTATED_WORDS * 8}
        for key, _ in copied}, "required": [key for key, _ in copied],
        "additionalProperties": False}
    messages = [{"role": "system", "content": render("summary_system.j2")},
                {"role": "user", "content": render("restate_user.j2", facts=copied,
                                                   words=RESTATED_WORDS)}]
    try:
        data = chat_json(llm, messages, sampling=sampling, schema=schema)
    except LLMError as exc:
        log.warning("%s: copied facts left as they are: %s", sheet.short_name, exc)
        return sheet
    new = {id(fact): builder.restated(fact, str(data.get(key, ""))) for key, fact in copied}
    log.info("%s: %d of %d copied facts restated in the model's words", sheet.short_name,
             sum(f is not None for f in new.values()), len(copied))

    def swap(fact: Fact) -> Fact:
        return new.get(id(fact)) or fact

    update: dict[str, object] = {name: swap(getattr(sheet, name)) for name in PLAIN_FACTS
                                 if getattr(sheet, name) is not None}
    update["results"] = [swap(result) for result in sheet.results]
    return sheet.model_copy(update=update)

