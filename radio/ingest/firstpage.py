"""Metadata from a PDF's own first page: title, authors, abstract, the arXiv stamp.

Used where no arXiv metadata exists (a local PDF given to `radio ingest`). Best effort
by design: the title is the largest horizontal text in the top half of page 1, the
authors are the name-like lines below it, the abstract runs from its heading to the
first section heading. The arXiv margin stamp (`arXiv:2312.10997v5 [cs.CL] 27 Mar 2024`)
is exact when present.
"""

from __future__ import annotations

import itertools
import re
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pymupdf takes seconds to import: the CLI loads it only when used
    import pymupdf

_STAMP = re.compile(
    r"arXiv:(?P<id>(?:\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})v\d+)\s+"
    r"\[(?P<cat>[^\]]+)\]\s+(?P<date>\d{1,2} [A-Z][a-z]{2} \d{4})")
_ABSTRACT = re.compile(r"^\s*a\s?b\s?s\s?t\s?r\s?a\s?c\s?t\b[\s.:—–-]*", re.I)
_ABSTRACT_END = re.compile(
    r"^\s*(?:(?:\d+|[IVX]+)\.?\s+introduction\b|introduction$|keywords\b|index terms\b"
    r"|ccs concepts\b|acm reference\b|\d+\s+[A-Z][a-z]+ (?:work|background)\b)", re.I)
_NOT_A_NAME = re.compile(
    r"@|\d|https?:|universit|institut|department|school|college|laborator|\blab\b|research"
    r"|center|centre|academy|inc\b|ltd\b|corporation|google|microsoft|meta\b|ai\b|group\b"
    r"|labs\b|preprint|\bUC\b", re.I)


@dataclass
class FirstPage:
    title: str = ""
    authors: list[str] = field(default_factory=list)
    abstract: str = ""
    arxiv_id: str | None = None  # with version, from the margin stamp
    primary_category: str | None = None
    stamp_date: datetime | None = None


@dataclass
class _Line:
    text: str
    size: float
    y: float
    x: float


def read_first_page(path: Path) -> FirstPage:
    """What page 1 of `path` says about the paper; raises ValueError if it has no page."""
    import pymupdf

    with pymupdf.open(path) as doc:
        if doc.needs_pass:
            raise ValueError(f"{path.name} is encrypted")
        if doc.page_count == 0:
            raise ValueError(f"{path.name} has no pages")
        page = doc[0]
        lines, stamp_text = _lines(page)
        height = page.rect.height
    from radio.ingest.pdf_text import clean  # ligatures, LaTeX's spacing accents (Teˇsanovi´c)

    lines = [_Line(clean(line.text), line.size, line.y, line.x) for line in lines]
    info = FirstPage()
    _read_stamp(stamp_text, info)
    title_lines = _title_lines(lines, height)
    title = _join_lines([line.text for line in title_lines])
    info.title = title if len(title) <= 300 else ""  # a page of body text is no title
    after_title = lines[lines.index(title_lines[-1]) + 1:] if title_lines else lines
    info.authors = _authors(after_title)
    info.abstract = _abstract(lines) or _headless_abstract(after_title)
    return info


def _lines(page: pymupdf.Page) -> tuple[list[_Line], str]:
    """Horizontal text lines in the page's reading order, and the rotated (stamp) text."""
    lines: list[_Line] = []
    rotated: list[str] = []
    for block in page.get_text("dict")["blocks"]:
        for line in block.get("lines", []):
            spans = line["spans"]
            if not any(s["text"].strip() for s in spans):
                continue
            if abs(line["dir"][0] - 1.0) > 0.01:
                rotated.append(" ".join("".join(s["text"] for s in spans).split()))
                continue
            size = max(s["size"] for s in spans if s["text"].strip())
            # Superscripts (affiliation marks) are small spans: drop them from the text.
            text = _join_spans([s for s in spans
                                if s["size"] > 0.75 * size or not s["text"].strip()])
            lines.append(_Line(text, round(size, 1), line["bbox"][1], line["bbox"][0]))
    return lines, " ".join(rotated)


def _join_spans(spans: list[dict]) -> str:
    """Span texts, with a space wherever the PDF leaves a gap instead of a space glyph."""
    text = ""
    right = None
    for span in spans:
        gap = span["bbox"][0] - right if right is not None else 0.0
        if text and gap > 0.15 * span["size"] and not text.endswith(" "):
            text += " "
        text += span["text"]
        right = span["bbox"][2]
    return " ".join(text.split())


def _read_stamp(text: str, info: FirstPage) -> None:
    match = _STAMP.search(text)
    if not match:
        return
    info.arxiv_id = match.group("id")
    info.primary_category = match.group("cat").strip()
    try:
        info.stamp_date = datetime.strptime(match.group("date"), "%d %b %Y").replace(tzinfo=UTC)
    except ValueError:
        info.stamp_date = None


def _title_lines(lines: list[_Line], height: float) -> list[_Line]:
    """The run of consecutive lines in the largest font of the top half (drop caps aside)."""
    candidates = [ln for ln in lines if ln.y < height / 2 and len(ln.text) > 2]
    if not candidates:
        return []
    biggest = max(ln.size for ln in candidates)
    start = next(i for i, ln in enumerate(lines) if ln in candidates and ln.size == biggest)
    run = []
    for line in lines[start:]:
        if abs(line.size - biggest) > 0.6:
            break
        run.append(line)
    return run


def _authors(lines: list[_Line]) -> list[str]:
    """Name-like comma/and-separated entries in the lines after the title."""
    names: list[str] = []
    for line in lines[:8]:
        if _ABSTRACT.match(line.text):
            break
        found = [_clean_name(part) for part in re.split(r",|;|\band\b|&|·|\s{3,}", line.text)]
        found = [name for name in found if _looks_like_name(name)]
        if not found and names:
            break
        names += [name for name in found if name not in names]
    return names[:30]


def _clean_name(part: str) -> str:
    return re.sub(r"[*∗†‡§¶#\d]+|\(\s*\)", "", part).strip(" .")


def _looks_like_name(text: str) -> bool:
    words = text.split()
    return (2 <= len(words) <= 5 and not _NOT_A_NAME.search(text)
            and all(w[0].isupper() for w in words if w[0].isalpha())
            and sum(c.isalpha() for c in text) >= 0.8 * len(text.replace(" ", "")))


def _abstract(lines: list[_Line]) -> str:
    for i, line in enumerate(lines):
        head = _ABSTRACT.match(line.text)
        if not head:
            continue
        parts = [line.text[head.end():]]
        for nxt in lines[i + 1:]:
            if _ABSTRACT_END.match(nxt.text):
                break
            parts.append(nxt.text)
        return _join_lines(parts)
    return ""


def _headless_abstract(lines: list[_Line]) -> str:
    """An abstract printed with no heading (REVTeX does that): the last paragraph of 40
    words or more above the first section heading."""
    end = next((i for i, line in enumerate(lines) if _ABSTRACT_END.match(line.text)), None)
    if end is None:
        return ""
    above = lines[:end]
    gaps = [b.y - a.y for a, b in itertools.pairwise(above) if b.y > a.y]
    blank = 1.4 * statistics.median(gaps) if gaps else 0.0  # well over a line's step
    paragraphs: list[list[str]] = [[]]
    for before, line in zip([None, *above], above, strict=False):
        if before is not None and line.y - before.y > blank:
            paragraphs.append([])
        paragraphs[-1].append(line.text)
    for paragraph in reversed(paragraphs):
        text = _join_lines(paragraph)
        if len(text.split()) >= 40:
            return text
    return ""


def _join_lines(parts: list[str]) -> str:
    text = ""
    for part in (p.strip() for p in parts):
        if not part:
            continue
        if text.endswith("-") and part[:1].islower():
            text = text[:-1] + part  # a word hyphenated across lines
        else:
            text = f"{text} {part}" if text else part
    return text.strip()
