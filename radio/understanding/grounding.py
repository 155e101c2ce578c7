"""Is generated text traceable to the paper? Every number and every named thing must be there.

A "claim" in a line is a number (12, 3.5, 45%, 1,000, 627M) or a name: an acronym (RAG,
GPT-4), a CamelCase or mixed letter-digit token (AutoGen, ResNet50) or a capitalised word
inside a sentence (Wikipedia, Transformer). A line is grounded when each of its claims
occurs in the source text (numbers by value, names case-insensitively as whole words).
Words anyone may say without the paper (speaker names, the station's name) go in `allowed`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import cached_property

from pydantic import BaseModel, Field

_NUMBER = re.compile(r"(?<![\w.])[-−]?\d[\d,]*(?:\.\d+)?(?![\d])")
_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9]+s?(?:[-.][A-Za-z0-9]+)*\b")
_CAMEL = re.compile(r"\b[A-Za-z]*[a-z][A-Z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*\b")
_MIXED = re.compile(r"\b[A-Za-z]+-?\d+[A-Za-z0-9]*(?:-[A-Za-z0-9]+)*\b")
_CAPITALISED = re.compile(r"(?<=[a-z0-9,;:()] )[A-Z][a-z]{2,}(?:-[A-Za-z]+)*\b")
_HYPHEN_BREAK = re.compile(r"(\w)-\s*\n\s*(\w)")

# Capitalised words that name nothing: they start clauses after a colon, or are everyday.
_COMMON_WORDS = """
the this that these those their there then than they it its we our you your he she his her
a an and or but so yet for nor in on at by of to from with as is are was were be been will
i english monday tuesday wednesday thursday friday saturday sunday today however also
overall first second third finally while although because what which who how why when where
january february march april may june july august september october november december
"""
_COMMON = frozenset(_COMMON_WORDS.split())


class LineVerdict(BaseModel):
    line: str
    ok: bool
    claims: list[str] = Field(description="Numbers and names found in the line.")
    unsupported: list[str] = Field(description="Claims not found in the source.")


class GroundingReport(BaseModel):
    lines: list[LineVerdict]
    rate: float = Field(description="Share of lines whose claims are all in the source.")

    @property
    def failed(self) -> list[int]:
        return [i for i, verdict in enumerate(self.lines) if not verdict.ok]


def normalise(text: str) -> str:
    """NFKC (ligatures), rejoined hyphenated line breaks, unicode minus, one space."""
    text = unicodedata.normalize("NFKC", text).replace("−", "-").replace("\u00ad", "")
    text = _HYPHEN_BREAK.sub(r"\1\2", text)
    return re.sub(r"\s+", " ", text)


def number_value(token: str) -> float | None:
    try:
        return float(token.replace(",", "").replace("−", "-"))
    except ValueError:
        return None


class Source:
    """A paper's text, prepared once for many checks."""

    def __init__(self, text: str) -> None:
        self.text = normalise(text)
        self.lower = self.text.lower()

    @cached_property
    def numbers(self) -> set[float]:
        values = {number_value(m.group()) for m in _NUMBER.finditer(self.text)}
        values |= {abs(v) for v in values if v is not None}
        return {v for v in values if v is not None}

    @cached_property
    def ngrams(self) -> set[tuple[str, ...]]:
        """Word 4-grams, to tell the paper's phrases from a prompt's."""
        words = re.findall(r"[a-z0-9]+", self.lower)
        return set(zip(*(words[i:] for i in range(4)), strict=False))

    @cached_property
    def words(self) -> set[str]:
        return set(re.findall(r"[a-z0-9]+", self.lower))

    def has_number(self, token: str) -> bool:
        value = number_value(token)
        return value is not None and (value in self.numbers or abs(value) in self.numbers)

    def has_name(self, name: str) -> bool:
        needle = name.lower()
        if re.search(rf"(?<![a-z0-9]){re.escape(needle)}(?![a-z0-9])", self.lower):
            return True
        # "GPT-4" written "GPT 4" or "GPT4" in the paper, and plural "LLMs" for "LLM".
        squashed = re.sub(r"[-\s.]", "", needle)
        variants = {squashed, squashed.rstrip("s"), needle.rstrip("s")}
        return any(v and v in self.words for v in variants) or (
            len(squashed) > 3 and squashed in re.sub(r"[-\s.]", "", self.lower))


def claims_of(line: str, allowed: Iterable[str] = ()) -> list[str]:
    text = normalise(line)
    allowed_lower = {a.lower() for a in allowed}
    found: list[str] = []
    names_spans: list[tuple[int, int]] = []
    for pattern in (_ACRONYM, _CAMEL, _MIXED, _CAPITALISED):
        for match in pattern.finditer(text):
            name = match.group().strip("-.")
            if name.lower() in _COMMON or name.lower() in allowed_lower:
                continue
            if any(s <= match.start() < e for s, e in names_spans):
                continue  # already part of a longer name
            names_spans.append(match.span())
            found.append(name)
    for match in _NUMBER.finditer(text):
        if not any(s <= match.start() < e for s, e in names_spans):
            found.append(match.group())
    return list(dict.fromkeys(found))


def check_line(line: str, source: Source, allowed: Iterable[str] = ()) -> LineVerdict:
    claims = claims_of(line, allowed)
    unsupported = [c for c in claims
                   if not (source.has_number(c) if _is_number(c) else source.has_name(c))]
    return LineVerdict(line=line, ok=not unsupported, claims=claims, unsupported=unsupported)


def check_grounding(text_lines: list[str], source_text: str | Source, *,
                    allowed: Iterable[str] = ()) -> GroundingReport:
    """Per-line verdicts and the share of grounded lines (1.0 for no lines)."""
    source = source_text if isinstance(source_text, Source) else Source(source_text)
    allowed = list(allowed)
    verdicts = [check_line(line, source, allowed) for line in text_lines]
    rate = sum(v.ok for v in verdicts) / len(verdicts) if verdicts else 1.0
    return GroundingReport(lines=verdicts, rate=rate)


def _is_number(claim: str) -> bool:
    return bool(_NUMBER.fullmatch(claim))
