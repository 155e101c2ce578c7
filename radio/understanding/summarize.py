"""Grounded summaries of one paper: hook, short summary, deep summary, key points.

1. The paper's text is cut into chunks (references dropped).
2. Retrieval over the paper's own chunks picks the passages that speak to the problem, the
   method, the results and the limits, plus the opening (abstract and introduction).
3. If those passages fit the context window, one constrained call writes the summary;
   otherwise map-reduce: each group of passages that fits becomes notes, and the summary is
   written from the abstract and the notes.
4. Every sentence is checked against the paper text (grounding.py). If any fails, the summary
   is written again once, told what to avoid; sentences that still fail are dropped.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from functools import cached_property
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from radio.backends.embedder import Embedder
from radio.backends.llm import LLM, chat_json
from radio.config import LLMSettings
from radio.understanding.chunks import (
    Chunk,
    clean,
    embed_chunks,
    make_chunks,
    select_passages,
    sentences,
)
from radio.understanding.grounding import LineVerdict, Source, check_grounding
from radio.understanding.prompts import render

log = logging.getLogger(__name__)

PROMPT_OVERHEAD_TOKENS = 700  # system prompt, instructions and the JSON scaffolding
MAX_NOTES = 5

# The model sees each key as it writes its value: keys that say what they want help a small
# model more than instructions it may echo. Caps (~650 tokens in all) bound the time.
WIRE_KEYS: dict[str, str] = {
    "problem": "problem_the_paper_addresses",
    "method": "what_the_authors_did",
    "results": "main_results_with_numbers",
    "limits": "limitations_or_open_questions",
    "key_points": "key_facts",
    "short": "two_sentence_summary_for_listeners",
    "hook": "catchy_one_line_hook",
}
_TEXT = {"type": "string", "minLength": 10}
SUMMARY_SCHEMA: dict = {
    "type": "object",
    "properties": {
        WIRE_KEYS["problem"]: {**_TEXT, "maxLength": 300},
        WIRE_KEYS["method"]: {**_TEXT, "maxLength": 400},
        WIRE_KEYS["results"]: {**_TEXT, "maxLength": 400},
        WIRE_KEYS["limits"]: {"type": "string", "maxLength": 300},
        WIRE_KEYS["key_points"]: {"type": "array", "minItems": 3, "maxItems": 5,
                                  "items": {**_TEXT, "maxLength": 150}},
        WIRE_KEYS["short"]: {**_TEXT, "maxLength": 400},
        WIRE_KEYS["hook"]: {**_TEXT, "maxLength": 120},
    },
    "required": list(WIRE_KEYS.values()),
    "additionalProperties": False,
}
NOTES_SCHEMA: dict = {
    "type": "object",
    "properties": {"notes": {"type": "array",
                             "items": {"type": "string", "minLength": 10, "maxLength": 200},
                             "minItems": 1, "maxItems": MAX_NOTES}},
    "required": ["notes"],
    "additionalProperties": False,
}


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
    rate: float = Field(description="Share of grounded sentences in the best generated draft.")
    checked: int
    dropped: list[str] = Field(description="Sentences removed because they were not grounded.")
    unsupported: list[str] = Field(description="Claims not found in the paper.")
    attempts: int


class SummaryRecord(BaseModel):
    """What is stored (table `summaries`, and papers/<id>/summary.json)."""

    arxiv_id: str
    version: int
    title: str
    model: str
    mode: Literal["single", "map_reduce"]
    passages: list[int] = Field(description="Chunks the summary read, by position.")
    summary: Summary
    grounding: Grounding
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class Paper(BaseModel):
    arxiv_id: str
    version: int
    title: str
    abstract: str
    text: str = Field(description="text.txt of the pdf worker: no references.")
    sections: dict | None = None  # sections.json of the pdf worker, when there is one


# --- generation --------------------------------------------------------------------------


def group_within(passages: list[Chunk], budget: int, count_tokens) -> list[list[Chunk]]:
    groups: list[list[Chunk]] = [[]]
    used = 0
    for passage in passages:
        cost = count_tokens(passage.text) + 12
        if groups[-1] and used + cost > budget:
            groups.append([])
            used = 0
        groups[-1].append(passage)
        used += cost
    return groups


def _cap(field: str) -> int:
    schema = SUMMARY_SCHEMA["properties"][WIRE_KEYS[field]]
    return int(schema.get("maxLength") or schema["items"]["maxLength"])


def tidy(data: dict) -> dict:
    """Whole sentences only: a field cut off at its length cap loses its unfinished tail, and
    a sentence copied from the middle of one in the paper (lower-case start) goes."""
    def whole(text: str, cap: int) -> str:
        kept = [s for s in sentences(text.strip()) if s[:1].isupper() or s[:1].isdigit()]
        if kept and len(text.strip()) >= cap - 5 and kept[-1][-1] not in ".!?\"')”":
            kept.pop()
        return " ".join(kept)

    out = {k: whole(v, _cap(k)) if isinstance(v, str) else v for k, v in data.items()}
    points = (whole(p, _cap("key_points")) for p in data.get("key_points", []))
    out["key_points"] = [p for p in points if p]
    return out


def ngrams(text: str, n: int = 4) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return set(zip(*(words[i:] for i in range(n)), strict=False))


def summary_lines(data: dict) -> list[str]:
    lines: list[str] = []
    for field in ("hook", "short", "problem", "method", "results", "limits"):
        lines += sentences(data.get(field, ""))
    lines += [p.strip() for p in data.get("key_points", []) if p.strip()]
    return lines


class Summarizer:
    def __init__(self, llm: LLM, embedder: Embedder, settings: LLMSettings) -> None:
        self.llm, self.embedder, self.settings = llm, embedder, settings

    def count_tokens(self, text: str) -> int:
        counter = getattr(self.llm, "count_tokens", None)
        return counter(text) if counter else len(text) // 4 + 1

    @property
    def passage_budget(self) -> int:
        n_ctx = getattr(self.llm, "n_ctx", self.settings.n_ctx)
        return n_ctx - self.settings.summary.max_tokens - PROMPT_OVERHEAD_TOKENS

    def chunks(self, paper: Paper) -> tuple[list[Chunk], np.ndarray]:
        """The paper's chunks and their vectors (the embeddings worker keeps them)."""
        chunks = make_chunks(paper.text, paper.sections, self.settings.chunk_words)
        return chunks, embed_chunks(chunks, self.embedder)

    def summarize(self, paper: Paper, chunked: tuple[list[Chunk], np.ndarray] | None = None,
                  ) -> SummaryRecord:
        source = Source(f"{paper.title}\n{paper.abstract}\n{paper.text}")
        chunks, vectors = chunked or self.chunks(paper)
        passages = select_passages(chunks, self.embedder, self.settings.summary_passages,
                                   vectors)
        budget = self.passage_budget - self.count_tokens(paper.title + paper.abstract)
        groups = group_within(passages, budget, self.count_tokens)
        notes: list[str] = []
        if len(groups) > 1:
            notes = self._fit(self._map_notes(paper, groups), budget)
            passages_in_prompt: list[Chunk] = []
        else:
            passages_in_prompt = passages

        best: tuple[float, dict, list[LineVerdict], set[str]] | None = None
        avoid: list[str] = []
        attempts = 0
        while attempts <= self.settings.summary_regenerations:
            attempts += 1
            data = tidy(self._write(paper, passages_in_prompt, notes, avoid))
            report = check_grounding(summary_lines(data), source)
            echoes = {v.line for v in report.lines if self._echoes(v.line, source)}
            if best is None or report.rate > best[0]:
                best = (report.rate, data, report.lines, echoes)
            if report.rate == 1.0:
                break
            avoid = sorted({c for v in report.lines for c in v.unsupported})
        assert best is not None
        rate, data, verdicts, echoes = best
        bad = {v.line for v in verdicts if not v.ok} | echoes
        unsupported = sorted({c for v in verdicts for c in v.unsupported})
        summary = self._drop(data, bad, paper)
        return SummaryRecord(
            arxiv_id=paper.arxiv_id, version=paper.version, title=paper.title,
            model=self.llm.name, mode="map_reduce" if notes else "single",
            passages=[p.index for p in passages], summary=summary,
            grounding=Grounding(rate=rate, checked=len(verdicts), dropped=sorted(bad),
                                unsupported=unsupported, attempts=attempts))

    def _echoes(self, line: str, source: Source) -> bool:
        """A line that parrots our instructions ("why it matters") rather than the paper."""
        return bool(ngrams(line) & self._instruction_ngrams - source.ngrams)

    @cached_property
    def _instruction_ngrams(self) -> set[tuple[str, ...]]:
        empty = render("summary_user.j2", title="", abstract="", passages=[], notes=[],
                       avoid=[])
        return ngrams(render("summary_system.j2") + "\n" + empty)

    def _fit(self, notes: list[str], budget: int) -> list[str]:
        """As many notes as the reduce step's prompt has room for, in the paper's order."""
        kept, used = [], 0
        for note in notes:
            used += self.count_tokens(note) + 3
            if used > budget:
                break
            kept.append(note)
        return kept

    def _messages(self, user: str) -> list[dict[str, str]]:
        return [{"role": "system", "content": render("summary_system.j2")},
                {"role": "user", "content": user}]

    def _write(self, paper: Paper, passages: list[Chunk], notes: list[str],
               avoid: list[str]) -> dict:
        user = render("summary_user.j2", title=paper.title, abstract=clean(paper.abstract),
                      passages=passages, notes=notes, avoid=avoid)
        data = chat_json(self.llm, self._messages(user), sampling=self.settings.summary,
                         schema=SUMMARY_SCHEMA)
        return {field: data[key] for field, key in WIRE_KEYS.items()}

    def _map_notes(self, paper: Paper, groups: list[list[Chunk]]) -> list[str]:
        notes: list[str] = []
        sampling = self.settings.summary.model_copy(update={"max_tokens": 400})
        for part, group in enumerate(groups, start=1):
            user = render("summary_map.j2", title=paper.title, passages=group, part=part,
                          parts=len(groups), max_notes=MAX_NOTES)
            data = chat_json(self.llm, self._messages(user), sampling=sampling,
                             schema=NOTES_SCHEMA)
            notes += [n.strip() for n in data["notes"] if n.strip()]
        log.info("%s: map-reduce over %d groups, %d notes", paper.arxiv_id, len(groups),
                 len(notes))
        return notes

    @staticmethod
    def _drop(data: dict, bad: set[str], paper: Paper) -> Summary:
        def keep(text: str) -> str:
            return " ".join(clean(s) for s in sentences(text) if s not in bad)

        abstract_opening = " ".join(sentences(clean(paper.abstract))[:2]) or paper.title
        return Summary(
            # A hook or short summary that fails falls back to the paper's own words.
            hook=keep(data["hook"]) or paper.title,
            short=keep(data["short"]) or abstract_opening,
            deep=DeepSummary(problem=keep(data["problem"]), method=keep(data["method"]),
                             results=keep(data["results"]), limits=keep(data["limits"])),
            key_points=[clean(p) for p in data["key_points"] if p.strip() and p.strip()
                        not in bad],
        )
