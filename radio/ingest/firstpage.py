"""Metadata from a PDF's own first page: title, authors, abstract, the arXiv stamp.

Used where no arXiv metadata exists (a local PDF given to `radio ingest`). Best effort
by design, from the spans' sizes, weights and positions: the title is the largest
horizontal text in the top half of page 1 with the lines in about its size that touch it
(small capitals read back as lower case); the authors are the name-like stretches
between the title and the abstract, cut at commas, "and", superscript marks and wide
gaps, and set like the first name (affiliations and figure labels are set otherwise);
the abstract runs from its heading to the first section heading. The arXiv margin stamp
(`arXiv:2312.10997v5 [cs.CL] 27 Mar 2024`) is exact when present.
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
    r"@|\d|https?:|universit|institut|department|\bschool|college|laborator|\blabs?\b"
    r"|research|\bcent(?:er|re)\b|academy|\binc\b|\bltd\b|corporation|company|google"
    r"|microsoft|\bmeta\b|\bai\b|\bgroup\b|preprint|\bUC\b|hospital|foundation|faculty"
    r"|ministry|\bteam\b|equal contribution|correspond", re.I)


@dataclass
class FirstPage:
    title: str = ""
    authors: list[str] = field(default_factory=list)
    abstract: str = ""
    arxiv_id: str | None = None  # with version, from the margin stamp
    primary_category: str | None = None
    stamp_date: datetime | None = None


@dataclass
class _Span:
    text: str
    size: float
    x0: float
    x1: float
    baseline: float
    bold: bool = False


@dataclass(eq=False)  # compared by identity: two lines may read alike
class _Line:
    text: str
    size: float
    y: float
    x: float
    x1: float = 0.0
    spans: list[_Span] = field(default_factory=list)


@dataclass
class _Part:
    """A stretch of an author line between separators (commas, marks, wide gaps)."""

    text: str = ""
    lead: bool = True  # a separator stands before it (or it starts the line)
    trail: bool = False  # a separator stands after it
    size: float = 0.0  # its largest letters
    bold: bool = False

    def same_hand(self, other: _Part | None) -> bool:
        """Set like `other` (the first name): affiliations, figures are set otherwise."""
        return other is None or (abs(self.size - other.size) <= 0.1 * other.size
                                 and self.bold == other.bold)


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

    for line in lines:
        line.text = clean(line.text)
    info = FirstPage()
    _read_stamp(stamp_text, info)
    title_lines = _title_lines(lines, height)
    title = clean(_join_lines([_styled_text(line.spans) for line in title_lines]))
    info.title = title if len(title) <= 300 else ""  # a page of body text is no title
    if title_lines:
        last = max(lines.index(line) for line in title_lines)
        top = min(line.y for line in title_lines)
        after_title = [line for line in lines[last + 1:] if line.y > top]
    else:
        after_title = lines
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
            kept = [_Span(s["text"], s["size"], s["bbox"][0], s["bbox"][2], s["origin"][1],
                          bool(s["flags"] & 16) or "bold" in s["font"].lower())
                    for s in spans]
            lines.append(_Line(text, round(size, 1), line["bbox"][1], line["bbox"][0],
                               line["bbox"][2], kept))
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


# --- the title -----------------------------------------------------------------------------


def _title_lines(lines: list[_Line], height: float) -> list[_Line]:
    """The lines of the title: the first line in the largest font of the top half (drop
    caps aside), and every line set in about that size that touches it, above or below,
    in the order they stand on the page (not the PDF's drawing order)."""
    candidates = sorted((ln for ln in lines if ln.y < height / 2 and len(ln.text) > 2),
                        key=lambda ln: (ln.y, ln.x))
    if not candidates or max(ln.size for ln in candidates) <= _body_size(lines) + 0.3:
        return []  # nothing in the top half is set larger than the text: no title there
    biggest = max(ln.size for ln in candidates)
    title = [next(ln for ln in candidates if ln.size == biggest)]
    grown = True
    while grown:
        grown = False
        for line in candidates:
            if line not in title and abs(line.size - biggest) <= 0.12 * biggest \
                    and any(_touches(line, other, biggest) for other in title):
                title.append(line)
                grown = True
    return sorted(title, key=lambda ln: (ln.y, ln.x))


def _body_size(lines: list[_Line]) -> float:
    """The font size most of the page's characters are set in."""
    chars: dict[float, int] = {}
    for line in lines:
        chars[line.size] = chars.get(line.size, 0) + len(line.text)
    return max(chars, key=lambda size: chars[size]) if chars else 0.0


def _touches(line: _Line, other: _Line, size: float) -> bool:
    """The next or previous line of one title, or a piece of the same line."""
    overlap = line.x < other.x1 and other.x < line.x1
    if abs(line.y - other.y) < 0.3 * size:  # the same row
        return overlap or min(abs(line.x - other.x1), abs(other.x - line.x1)) < 2 * size
    return overlap and abs(line.y - other.y) <= 1.7 * size


def _styled_text(spans: list[_Span]) -> str:
    """A line's text as its author wrote it: raised marks (footnotes, affiliations)
    dropped and small capitals turned back to lower case (T + ABLIB is "TabLib")."""
    visible = [s for s in spans if s.text.strip()]
    if not visible:
        return ""
    size = max(s.size for s in visible)
    base = next(s.baseline for s in visible if s.size == size)
    text = ""
    right = None
    for span in spans:
        if _is_superscript(span, size, base):
            continue
        piece = span.text
        if _is_small_caps(span, size, base):
            piece = piece.lower()
        gap = span.x0 - right if right is not None else 0.0
        if text and gap > 0.15 * span.size and not text.endswith(" ") \
                and not piece.startswith(" "):
            text += " "
        text += piece
        right = span.x1
    return " ".join(text.split())


_MARKS = set("*∗†‡§¶#♠♣♦♥♡♢♤♧⋄◇□■○●•⋆★✝✉∓±&,")


def _is_mark(span: _Span, size: float, base: float) -> bool:
    """A superscript (affiliation or footnote mark), or a mark symbol set in full size."""
    text = span.text.strip()
    if not text:
        return False
    if all(c in _MARKS for c in text if not c.isspace()) and set(text) - {",", "&"}:
        return True
    return _is_superscript(span, size, base)


def _is_superscript(span: _Span, size: float, base: float) -> bool:
    return (bool(span.text.strip()) and span.size < 0.85 * size
            and base - span.baseline > 0.15 * size)


def _is_small_caps(span: _Span, size: float, base: float) -> bool:
    return (0.55 * size < span.size < 0.92 * size and abs(span.baseline - base) < 0.1 * size
            and span.text.isupper())


# --- the authors ---------------------------------------------------------------------------

_PARTICLES = {"de", "del", "della", "der", "den", "di", "da", "du", "dos", "das", "van", "von",
              "la", "le", "ter", "ten", "bin", "ibn", "al", "el", "zu", "y"}
_NAME_CHARS = re.compile(r"^[^\W\d_][^\W\d_ .'’‘-]*(?:[ .'’‘-]+[^\W\d_]+)*\.?$")
_SEPARATOR = re.compile(r"\s*(?:[,;&·|]|\band\b)\s*")


def _authors(lines: list[_Line]) -> list[str]:
    """The names between the title and the abstract (or the first paragraph of text).

    An author line is cut into names at commas, "and", superscript marks and wide gaps,
    and a name broken across two lines of a list is joined again. Every line up to the
    abstract is read (a grid of author cells puts affiliations between names), and a name
    must be set like the first one: affiliations, e-mail and figure labels rarely are.
    """
    names: list[str] = []
    first: _Part | None = None  # the first name's part: how this paper sets names
    carry: str | None = None  # the start of a name that goes on on the next line
    for line in lines[:60]:
        if _ABSTRACT.match(line.text) or _ABSTRACT_END.match(line.text) or _is_prose(line):
            break
        parts = _name_parts(line)
        if carry and parts and not parts[0].lead and parts[0].same_hand(first):
            joined = _clean_name(f"{carry} {parts[0].text}")
            if _looks_like_name(joined):
                if _clean_name(carry) in names:
                    names[names.index(_clean_name(carry))] = joined
                else:
                    names.append(joined)
                parts = parts[1:]
        carry = None
        accepted = [_looks_like_name(_clean_name(part.text)) and part.same_hand(first)
                    for part in parts]
        for part, ok in zip(parts, accepted, strict=True):
            if ok:
                first = first or part
                names.append(_clean_name(part.text))
        # A list of names that breaks a name over two lines ("Benjamin Charles Germain
        # / Lee⁴"): its last part has no separator after it and follows a name.
        if len(parts) > 1 and accepted[-2] and not parts[-1].trail:
            carry = parts[-1].text
    unique: list[str] = []
    for name in names:
        name = _proper_case(name) if name.isupper() else name
        if name not in unique:
            unique.append(name)
    return unique[:50]


def _name_parts(line: _Line) -> list[_Part]:
    """The line cut at separators: commas, "and", superscript marks, gaps of an em."""
    visible = [s for s in line.spans if s.text.strip()]
    size = max(s.size for s in visible)
    base = next(s.baseline for s in visible if s.size == size)
    parts = [_Part(lead=False)]
    right = None

    def cut() -> None:
        parts[-1].trail = True
        parts.append(_Part(lead=True))

    for span in line.spans:
        if not span.text.strip():
            parts[-1].text += " "
            continue
        gap = span.x0 - right if right is not None else 0.0
        right = span.x1
        if _is_mark(span, size, base):
            cut()
            continue
        if parts[-1].text.strip() and gap > 0.9 * span.size:
            cut()
        elif gap > 0.15 * span.size:
            parts[-1].text += " "
        text = span.text.lower() if _is_small_caps(span, size, base) else span.text
        for i, piece in enumerate(_SEPARATOR.split(text)):
            if i:
                cut()
            parts[-1].text += piece
            if piece.strip() and span.size > parts[-1].size:
                parts[-1].size, parts[-1].bold = span.size, span.bold
    from radio.ingest.pdf_text import clean  # LaTeX's spacing accents (Teˇsanovi´c)

    for part in parts:
        part.text = clean(part.text)
    return [part for part in parts if part.text]


def _is_prose(line: _Line) -> bool:
    """A line of running text (the abstract without a heading, the introduction)."""
    words = line.text.split()
    return len(words) >= 8 and sum(w[0].islower() for w in words) > 0.5 * len(words)


def _clean_name(part: str) -> str:
    part = re.sub(r"[*∗†‡§¶#♠♣♦♥♡♢♤♧⋄◇□■○●•⋆★✝✉∓±\d\x00-\x1f]+|\(\s*\)", "", part)
    return " ".join(part.split()).strip(" .")


def _proper_case(name: str) -> str:
    """A name printed in capitals ("LUCY LU WANG") as it is written ("Lucy Lu Wang")."""
    return re.sub(r"[^\W\d_]+", lambda m: m.group()[0] + m.group()[1:].lower(), name)


def _looks_like_name(text: str) -> bool:
    words = text.split()
    if len(words) < 2 or not _NAME_CHARS.match(text):
        return False
    named = [words[0], *(w for w in words[1:-1] if w.lower() not in _PARTICLES), words[-1]]
    return (2 <= len(words) <= 6 and len(named) <= 5 and not _NOT_A_NAME.search(text)
            and all(w[0].isupper() for w in named if w[0].isalpha())
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
