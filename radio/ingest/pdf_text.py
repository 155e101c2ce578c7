"""Clean, ordered text of a PDF: the layout half of pdf_parse.

From MuPDF's text blocks to paragraphs in reading order:
- ligatures (ﬁ, ﬂ, ...) are expanded, words hyphenated across line ends are joined;
- the arXiv margin stamp, rotated margin text, tiny figure labels, page numbers and
  running headers/footers (margin text that repeats across pages) are dropped;
- two-column pages are read column by column, in bands between full-width blocks
  (titles, wide figures and tables);
- footnotes (small text low on a page) are set aside so they do not cut sentences;
- headings are recognised by their style (bold, larger, capitals) and their shape
  (numbered, or a well-known section name).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field

import pymupdf

# No TEXT_PRESERVE_LIGATURES: MuPDF then expands ligature glyphs itself.
TEXT_FLAGS = pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP

LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl",
                           "ﬅ": "st", "ﬆ": "st", "\u00a0": " ", "\u200b": "", "\ufeff": "",
                           "\x00": ""})
STAMP = re.compile(r"^arXiv:\s*(?:\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?"
                   r"\s+\[[^\]]+\]\s+\d{1,2}\s+[A-Z][a-z]{2}\s+\d{4}$")
PAGE_NUMBER = re.compile(r"^(?:page\s+)?(?:\d{1,4}|[ivxlc]{1,6})(?:\s*(?:of|/)\s*\d{1,4})?$", re.I)
CAPTION = re.compile(r"^(?:fig(?:ure)?|table|tab)\.?\s*\d", re.I)
MARGIN = 0.1  # share of the page height where headers and footers live
_BOLD_FONT = re.compile(r"bold|medi|semibold|black|heavy|cmbx|\bTB\b|-B\b|TB$|bx\d", re.I)
_NUMBERED = re.compile(r"^(?P<num>(?:\d{1,2}(?:\s?\.\s?\d{1,2}){0,3}\.?)|(?:[IVX]{1,5}\.)"
                       r"|(?:[A-H](?:\.\d{1,2})*\.?))\s+(?P<title>\S.*)$")
KNOWN = re.compile(
    r"^(?:abstract|introduction|related works?|background|preliminaries|methods?|methodology"
    r"|approach|experiments?|experimental (?:setup|results)|evaluation|results|discussion"
    r"|limitations?|conclusions?(?: and future work)?|concluding remarks|future work"
    r"|acknowledge?ments?|references|bibliography|appendix(?:\s+\S.*)?|appendices"
    r"|supplementary material|keywords|index terms|ccs concepts)$", re.I)
RUN_IN = re.compile(r"^(?P<head>abstract|index terms|keywords|ccs concepts|additional key words "
                    r"and phrases)\s*(?:[—–:.]|-{1,2})\s*(?P<rest>\S)", re.I)
KINDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.I)) for kind, pattern in (
        ("abstract", r"^abstract$"),
        ("keywords", r"^(?:keywords|index terms|ccs concepts|additional key words and phrases)$"),
        ("references", r"^(?:references|bibliography|works cited)$"),
        ("acknowledgements", r"acknowledge?ments?"),
        ("appendix", r"appendix|appendices|supplementary"),
        ("introduction", r"^introduction|^intro$"),
        ("related_work", r"related work|prior work|background|preliminar|literature"),
        ("conclusion", r"conclu|summary and|future work|outlook"),
        ("limitations", r"limitation"),
        ("discussion", r"discussion"),
        ("experiments", r"experiment|evaluation|results|benchmark|ablation"),
        ("method", r"method|approach|model|framework|architecture|proposed|algorithm"),
    ))


@dataclass
class Line:
    text: str
    bbox: tuple[float, float, float, float]
    size: float
    letters: int = 0  # alphabetic characters, and how many of them are bold or italic
    bold_letters: int = 0
    italic_letters: int = 0

    @property
    def bold(self) -> bool:
        return self.letters > 0 and self.bold_letters >= 0.75 * self.letters

    @property
    def italic(self) -> bool:
        return self.letters > 0 and self.italic_letters >= 0.75 * self.letters

    @property
    def caps(self) -> bool:
        letters = [c for c in self.text if c.isalpha()]
        return len(letters) >= 4 and all(c.isupper() for c in letters)


@dataclass
class Block:
    lines: list[Line]
    page: int
    bbox: tuple[float, float, float, float] = (0, 0, 0, 0)

    def __post_init__(self) -> None:
        xs0, ys0, xs1, ys1 = zip(*(ln.bbox for ln in self.lines), strict=True)
        self.bbox = (min(xs0), min(ys0), max(xs1), max(ys1))

    @property
    def text(self) -> str:
        return " ".join(ln.text for ln in self.lines)

    @property
    def size(self) -> float:
        """The font size most of the block's characters have."""
        sizes: Counter[float] = Counter()
        for ln in self.lines:
            sizes[ln.size] += len(ln.text)
        return sizes.most_common(1)[0][0]


@dataclass
class Para:
    """A paragraph, or a heading (`level` > 0), on the page it starts on (1-based)."""

    text: str
    page: int
    level: int = 0
    number: str = ""
    size: float = 0.0


@dataclass
class PageText:
    blocks: list[Block]
    width: float
    height: float
    chars: int = 0
    stamp: str | None = None
    notes: list[Block] = field(default_factory=list)


# --- reading pages ----------------------------------------------------------------------------


# TeX sets accents as separate glyphs before the letter: "Teˇsanovi´c".
_SPACING_ACCENT = {"´": "\u0301", "`": "\u0300", "ˇ": "\u030c", "¨": "\u0308", "˜": "\u0303",
                   "ˆ": "\u0302", "¸": "\u0327", "˘": "\u0306", "˙": "\u0307", "˚": "\u030a",
                   "˝": "\u030b", "¯": "\u0304"}
_ACCENTED = re.compile(f"([{''.join(_SPACING_ACCENT)}])\\s?([A-Za-z])")


def clean(text: str) -> str:
    text = _ACCENTED.sub(lambda m: m.group(2) + _SPACING_ACCENT[m.group(1)],
                         text.translate(LIGATURES))
    text = unicodedata.normalize("NFC", text)
    return re.sub(r"\s+", " ", text).strip()


def read_page(page: pymupdf.Page, number: int) -> PageText:
    """The horizontal text blocks of a page, with the stamp and rotated text set aside."""
    data = page.get_text("dict", flags=TEXT_FLAGS)
    blocks, stamp, rotated, chars = [], None, 0, 0
    for raw in data["blocks"]:
        lines = []
        for raw_line in raw.get("lines", []):
            line = _line(raw_line)
            if line is None:
                continue
            chars += len(line.text)
            if STAMP.match(line.text):
                stamp = line.text
            elif abs(raw_line["dir"][0] - 1.0) > 0.01:
                rotated += len(line.text)
            else:
                lines.append(line)
        if lines:
            blocks.append(Block(_visual_rows(lines), number))
    if rotated > chars / 2:  # a landscape page: its rotated text is the content
        return _rotated_page(page, number, stamp)
    return PageText(blocks, page.rect.width, page.rect.height, chars, stamp)


def _rotated_page(page: pymupdf.Page, number: int, stamp: str | None) -> PageText:
    """Keep every line of a page whose text runs sideways, in MuPDF's own order."""
    blocks = []
    for raw in page.get_text("dict", flags=TEXT_FLAGS)["blocks"]:
        lines = [ln for ln in map(_line, raw.get("lines", [])) if ln and not STAMP.match(ln.text)]
        if lines:
            blocks.append(Block(lines, number))
    chars = sum(len(b.text) for b in blocks)
    return PageText(blocks, page.rect.width, page.rect.height, chars, stamp)


def _line(raw: dict) -> Line | None:
    spans = [s for s in raw["spans"] if s["text"].strip()]
    if not spans:
        return None
    text = clean(_join_spans(raw["spans"]))
    if not text:
        return None
    letters = bold = italic = 0
    for span in spans:
        count = sum(c.isalpha() for c in span["text"])
        letters += count
        if span["flags"] & pymupdf.TEXT_FONT_BOLD or _BOLD_FONT.search(span["font"]):
            bold += count
        if span["flags"] & pymupdf.TEXT_FONT_ITALIC:
            italic += count
    size = round(max(s["size"] for s in spans), 1)
    return Line(text, tuple(raw["bbox"]), size, letters, bold, italic)


def _join_spans(spans: list[dict]) -> str:
    """Span texts, with a space where the PDF leaves a gap instead of a space glyph."""
    text, right = "", None
    for span in spans:
        if right is not None and span["bbox"][0] - right > 0.15 * span["size"]:
            text += " "
        text += span["text"]
        right = span["bbox"][2]
    return text


def _visual_rows(lines: list[Line]) -> list[Line]:
    """Merge lines that share a baseline (justified words, a number and its heading)."""
    rows: list[Line] = []
    for line in lines:
        prev = rows[-1] if rows else None
        if prev and _same_row(prev, line):
            rows[-1] = _merge(prev, line)
        else:
            rows.append(line)
    return rows


def _same_row(a: Line, b: Line) -> bool:
    mid_a, mid_b = (a.bbox[1] + a.bbox[3]) / 2, (b.bbox[1] + b.bbox[3]) / 2
    return abs(mid_a - mid_b) < 0.35 * min(a.size, b.size) and b.bbox[0] >= a.bbox[2] - 1


# --- the whole document -----------------------------------------------------------------------


def body_size(pages: list[PageText]) -> float:
    sizes: Counter[float] = Counter()
    for page in pages:
        for block in page.blocks:
            for line in block.lines:
                sizes[line.size] += len(line.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def drop_furniture(pages: list[PageText], body: float) -> None:
    """Remove page numbers, running headers/footers and tiny figure labels, in place."""
    repeats = Counter(key for page in pages for key in {_margin_key(page, b) for b in page.blocks}
                      if key)
    needed = max(2, round(0.2 * len(pages)))
    for page in pages:
        kept = []
        for block in page.blocks:
            key = _margin_key(page, block)
            if key and block.size < 1.15 * body and (repeats[key] >= needed
                                                     or PAGE_NUMBER.match(block.text)):
                continue  # the title may start in the margin and come back as a header
            if block.size < 0.65 * body or _is_label(block.text):
                continue  # labels inside figures, equation numbers
            kept.append(block)
        page.blocks = kept


def _is_label(text: str) -> bool:
    return len(text) < 12 and not any(c.isalpha() for c in text)


def _margin_key(page: PageText, block: Block) -> str | None:
    """A digit-blind key for text in the top or bottom margin; None elsewhere."""
    top, bottom = block.bbox[1], block.bbox[3]
    if top > MARGIN * page.height and bottom < (1 - MARGIN) * page.height:
        return None
    return re.sub(r"\d+", "#", block.text.lower())


def set_aside_footnotes(page: PageText, body: float) -> None:
    """Small text in the lower part of a page that is no caption is a footnote."""
    notes = [b for b in page.blocks
             if b.size <= 0.85 * body and b.bbox[1] > 0.7 * page.height
             and not CAPTION.match(b.text)]
    page.notes = notes
    page.blocks = [b for b in page.blocks if all(b is not n for n in notes)]


def reading_order(page: PageText) -> list[Block]:
    """Blocks in reading order: by columns within bands split by full-width blocks."""
    wide = [b for b in page.blocks if b.bbox[2] - b.bbox[0] > 20]
    if not wide:
        return sorted(page.blocks, key=lambda b: (b.bbox[1], b.bbox[0]))
    left_edge = min(b.bbox[0] for b in wide)
    right_edge = max(b.bbox[2] for b in wide)
    mid = (left_edge + right_edge) / 2
    tol = 0.02 * page.width

    def side(block: Block) -> str:
        if block.bbox[2] <= mid + tol:
            return "left"
        if block.bbox[0] >= mid - tol:
            return "right"
        return "wide"

    sides = {id(b): side(b) for b in page.blocks}
    chars = Counter[str]()
    for block in page.blocks:
        chars[sides[id(block)]] += len(block.text)
    total = sum(chars.values()) or 1
    by_y = sorted(page.blocks, key=lambda b: (b.bbox[1], b.bbox[0]))
    if chars["left"] < 0.15 * total or chars["right"] < 0.15 * total:
        return by_y  # one column
    ordered: list[Block] = []
    band: list[Block] = []
    for block in by_y:
        if sides[id(block)] == "wide":
            ordered += _band(band, sides)
            ordered.append(block)
            band = []
        else:
            band.append(block)
    return ordered + _band(band, sides)


def _band(blocks: list[Block], sides: dict[int, str]) -> list[Block]:
    left = [b for b in blocks if sides[id(b)] == "left"]
    right = [b for b in blocks if sides[id(b)] == "right"]
    return left + right


# --- paragraphs and headings ------------------------------------------------------------------


def paragraphs(blocks: list[Block], body: float, vocab: Vocabulary | None = None) -> list[Para]:
    """Blocks to paragraphs and headings; a paragraph cut by a column or page is rejoined."""
    out: list[Para] = []
    for block in _join_wrapped_headings(blocks, body):
        lines = list(block.lines)
        heading = _heading(lines[0], body)
        if heading and len(lines) > 1 and _continues_heading(lines[0], lines[1]):
            merged = _merge(lines[0], lines[1])
            if longer := _heading(merged, body):
                heading, lines = longer, [merged, *lines[2:]]
        if heading:
            out.append(Para(heading[1], block.page, heading[0], heading[2], lines[0].size))
            lines = lines[1:]
        if lines:
            rest = Block(lines, block.page)
            _append(out, Para(join_lines([ln.text for ln in lines], vocab), block.page,
                              size=rest.size), body, vocab)
    return out


def _join_wrapped_headings(blocks: list[Block], body: float) -> list[Block]:
    """A one-line heading block followed by its second line as a block of its own."""
    out: list[Block] = []
    for block in blocks:
        prev = out[-1] if out else None
        if prev and len(prev.lines) == 1 and len(block.lines) == 1 and \
                _heading(prev.lines[0], body) and _continues_heading(prev.lines[0], block.lines[0]):
            out[-1] = Block([prev.lines[0], block.lines[0]], prev.page)
        else:
            out.append(block)
    return out


def _continues_heading(first: Line, second: Line) -> bool:
    """A heading wrapped on two lines: same style, close below, not a known name alone."""
    upper = [c.isupper() for c in second.text if c.isalpha()]
    caps_too = not first.caps or sum(upper) >= 0.7 * len(upper)  # "LARGE z LIMIT"
    return first.size == second.size and first.bold == second.bold and caps_too and \
        second.bbox[1] - first.bbox[3] < 0.6 * first.size and len(second.text) < 80 and \
        not KNOWN.match(_strip_number(first.text))


def _merge(a: Line, b: Line) -> Line:
    """One line from two: side by side (a row) or one below the other (a wrapped heading)."""
    bbox = (min(a.bbox[0], b.bbox[0]), min(a.bbox[1], b.bbox[1]), max(a.bbox[2], b.bbox[2]),
            max(a.bbox[3], b.bbox[3]))
    return Line(join_lines([a.text, b.text]), bbox, max(a.size, b.size), a.letters + b.letters,
                a.bold_letters + b.bold_letters, a.italic_letters + b.italic_letters)


def _strip_number(text: str) -> str:
    match = _NUMBERED.match(text)
    return match.group("title") if match else text


def _heading(line: Line, body: float) -> tuple[int, str, str] | None:
    """(level, title, number) if the line is a section heading."""
    text = line.text.strip()
    if not 3 <= len(text) <= 100 or text[-1] in ",;" or len(text.split()) > 14:
        return None
    styled = line.bold or line.caps or line.size >= 1.12 * body
    if line.size < 0.85 * body:
        return None
    match = _NUMBERED.match(text)
    if match and (styled or (line.italic and "." in match.group("num"))):  # IEEE: "A. Naive RAG"
        number, title = match.group("num").replace(" ", "").rstrip("."), match.group("title")
        if not title[0].isupper() or title.endswith(".") or sum(c.isdigit() for c in title) > 4:
            return None
        if re.fullmatch(r"[A-H]", match.group("num")) and len(title.split()) < 2 \
                and not KNOWN.match(title):
            return None  # "A PREPRINT", "A Survey": a bare letter needs a real title
        return _level(number), title, number
    if styled and KNOWN.match(text.rstrip(".:")):
        return 1, text.rstrip(".:"), ""
    return None


def _level(number: str) -> int:
    if re.fullmatch(r"[IVX]+", number):
        return 1
    if re.fullmatch(r"[A-H]", number):
        return 2  # IEEE subsections; appendices get level 1 from their place after references
    return number.count(".") + 1


def _append(out: list[Para], para: Para, body: float, vocab: Vocabulary | None) -> None:
    prev = out[-1] if out else None
    # A figure caption between the halves of a sentence does not stop them joining.
    text_before = next((p for p in reversed(out[-3:]) if not CAPTION.match(p.text)), None)
    if prev and not prev.level and _drop_cap(prev, para):
        prev.text, prev.size = prev.text + para.text, para.size
    elif text_before and not text_before.level and _continues(text_before.text, para.text):
        text_before.text = join_lines([text_before.text, para.text], vocab)
    elif prev and not prev.level and _same_title(prev, para, body):
        prev.text = join_lines([prev.text, para.text], vocab)
    else:
        out.append(para)


def _same_title(prev: Para, para: Para, body: float) -> bool:
    """A title set in large type and wrapped into two blocks."""
    return prev.page == para.page == 1 and prev.size == para.size >= 1.15 * body


def _drop_cap(prev: Para, para: Para) -> bool:
    return len(prev.text) == 1 and prev.text.isupper() and para.text[:1].isupper() and \
        prev.size >= 1.8 * para.size


def _continues(prev: str, nxt: str) -> bool:
    """A sentence cut by a column or page break: no stop before, lower case after."""
    return bool(re.search(r"[a-z,\-]$", prev)) and nxt[:1].islower()


def join_lines(lines: list[str], vocab: Vocabulary | None = None) -> str:
    """Join lines with spaces; a word hyphenated at a line end loses its hyphen unless the
    document spells it with one elsewhere (domain-specific) or it is a compound
    (state-of-the-art, Pre-Training)."""
    text = ""
    for line in (ln.strip() for ln in lines):
        if not line:
            continue
        end = re.search(r"([\w-]*[A-Za-z])[-\u2010\u00ad]$", text)
        if end and line[:1].isalpha():
            keep = line[:1].isupper() or "-" in end.group(1) or \
                (vocab is not None and vocab.hyphenated(end.group(1), line))
            text = text[:-1] + ("-" if keep else "") + line
        else:
            text = f"{text} {line}" if text else line
    return text


class Vocabulary:
    """The words a document writes out in full, to tell `gen-|eration` from `domain-|specific`."""

    def __init__(self, lines: list[str]) -> None:
        self.words: set[str] = set()
        for line in lines:
            # A line's last word may be the first half of a split: it does not count.
            self.words.update(w.lower() for w in re.findall(r"[\w-]+", line)[:-1])

    def hyphenated(self, head: str, line: str) -> bool:
        tail = re.match(r"[\w-]*", line)
        word = f"{head}-{tail.group(0) if tail else ''}".lower()
        return word in self.words and word.replace("-", "") not in self.words


def split_run_in(paras: list[Para]) -> list[Para]:
    """`Abstract—We ...` (IEEE) becomes the heading `Abstract` and its paragraph."""
    out: list[Para] = []
    for para in paras:
        match = RUN_IN.match(para.text) if not para.level else None
        if match:
            out.append(Para(match.group("head"), para.page, 1, "", para.size))
            para = Para(para.text[match.start("rest"):], para.page, size=para.size)
        out.append(para)
    return out


def kind_of(title: str) -> str:
    text = _strip_number(title).strip().lower()
    return next((kind for kind, pattern in KINDS if pattern.search(text)), "section")


def title_of(page: PageText, body: float) -> str:
    """The paper's title: the largest text in the top half of page 1."""
    top = [ln for b in page.blocks for ln in b.lines
           if ln.bbox[1] < page.height / 2 and len(ln.text) > 2]
    if not top:
        return ""
    biggest = max(ln.size for ln in top)
    if biggest < 1.15 * body:
        return ""  # no larger type on the page: an excerpt without its title page
    run: list[str] = []
    for line in (ln for b in page.blocks for ln in b.lines):
        if abs(line.size - biggest) <= 0.6 and line.bbox[1] < page.height / 2:
            run.append(line.text)
        elif run:
            break
    return join_lines(run)
