"""A PDF becomes clean text, sections, page images and a title card (PyMuPDF).

`parse_isolated` runs the parse in a child process (forkserver, MuPDF preloaded) with a
wall-clock timeout and a memory cap, so a pathological PDF cannot stall or sink the
worker; the output directory appears whole or not at all (staged, then renamed).
`parse_to_dir` is the same work in this process. As with every start method but fork, a
script that calls `parse_isolated` keeps its top level under `if __name__ == "__main__"`
(`radio`, `python -m radio` and pytest do).

Bad input raises a `PdfError` subclass with a readable reason: `NotAPdf`, `EncryptedPdf`,
`TruncatedPdf`, `CorruptPdf`, `PdfTooLarge`, `ParseTimeout`, `ParserCrashed`. A PDF
without a text layer (scanned pages) is no error: it gets page images and
`has_text_layer=False`.

Output directory (the pdf worker uses `DataRoot.paper_dir(id) / "v<version>"`):

    text.txt        clean text without references, headings on their own lines,
                    paragraphs separated by a blank line
    sections.json   the structure below
    pages/001.png   page images, `page_width_px` wide (at most `max_pages` pages)
    title_card.png  1280x720, from metadata only (CC0), for papers whose pages may not be shown

sections.json (`"format": "radio.sections/1"`)::

    {"format": "radio.sections/1",
     "title": "...",             # the title as printed on page 1 ("" if not found)
     "stamp": "arXiv:2312.10997v5 [cs.CL] 27 Mar 2024" | null,   # the margin stamp
     "pages": 21, "pages_parsed": 21, "has_text_layer": true, "chars": 104000,
     "sections": [{"index": 0, "kind": "abstract", "title": "Abstract", "number": "",
                   "level": 1, "page": 1, "start": 0, "end": 1234,
                   "paragraphs": [{"page": 1, "start": 10, "end": 900, "text": "..."}]}],
     "references": [{"page": 20, "text": "[1] ..."}],
     "footnotes": [{"page": 1, "text": "..."}]}

`start`/`end` are character offsets into text.txt: `text[start:end]` is the section
(heading line included) and `text[p.start:p.end] == p.text` for each paragraph. Pages
are 1-based. `kind` is one of front (title, authors: before the first heading),
abstract, keywords, introduction, related_work, method, experiments, discussion,
limitations, conclusion, acknowledgements, appendix, section (anything else; a
subsection takes its parent's kind). `level` is 1 for sections, 2+ for subsections.
References are not in `sections` nor in text.txt.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import shutil
import uuid
from dataclasses import dataclass, field
from functools import cache
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import pymupdf

from radio.artifacts import temp_tag
from radio.config import PdfSettings
from radio.ingest import pdf_text as pt
from radio.ingest.pdf_images import CardInfo, render_pages, render_title_card

FORMAT = "radio.sections/1"
MIN_CHARS_PER_PAGE = 40  # below this a PDF is taken to have no text layer (scanned)


class PdfError(Exception):
    """The file cannot be parsed; no retry will change that."""

    code = "invalid_pdf"


class NotAPdf(PdfError):
    code = "not_a_pdf"


class EncryptedPdf(PdfError):
    code = "encrypted"


class TruncatedPdf(PdfError):
    code = "truncated"


class CorruptPdf(PdfError):
    code = "corrupt"


class PdfTooLarge(PdfError):
    code = "too_large"


class ParseTimeout(PdfError):
    code = "timeout"


class ParserCrashed(PdfError):
    code = "crashed"


_ERRORS = {cls.__name__: cls for cls in (PdfError, NotAPdf, EncryptedPdf, TruncatedPdf,
                                          CorruptPdf, PdfTooLarge, ParseTimeout, ParserCrashed)}


@dataclass
class ParseResult:
    """What a parse produced; file names are relative to the output directory."""

    pages: int
    pages_parsed: int
    has_text_layer: bool
    chars: int
    title: str
    sections: list[str] = field(default_factory=list)
    page_images: list[str] = field(default_factory=list)
    text_file: str | None = None
    sections_file: str | None = None
    title_card: str = "title_card.png"


# --- opening ----------------------------------------------------------------------------------


def check_file(path: Path, max_bytes: int) -> None:
    """Cheap checks before MuPDF sees the file: size, the %PDF header, the %%EOF trailer."""
    size = path.stat().st_size
    if size == 0:
        raise NotAPdf("empty file (0 bytes)")
    if size > max_bytes:
        raise PdfTooLarge(f"{size} bytes, more than the limit of {max_bytes}")
    with path.open("rb") as handle:
        head = handle.read(1024)
        handle.seek(max(0, size - 4096))
        tail = handle.read()
    if b"%PDF-" not in head:
        raise NotAPdf(f"no %PDF header; the file starts with {head[:24]!r}")
    if b"%%EOF" not in tail:
        raise TruncatedPdf(f"no %%EOF trailer in the last 4 KiB: cut short at {size} bytes?")


def open_pdf(path: Path, max_bytes: int) -> pymupdf.Document:
    check_file(path, max_bytes)
    try:
        doc = pymupdf.open(path, filetype="pdf")
    except (pymupdf.FileDataError, RuntimeError) as exc:
        raise CorruptPdf(f"MuPDF cannot open it: {exc}") from exc
    if doc.needs_pass:
        doc.close()
        raise EncryptedPdf("password-protected (encrypted) PDF")
    if doc.page_count == 0:
        doc.close()
        raise CorruptPdf("the PDF has no pages")
    return doc


# --- parsing ----------------------------------------------------------------------------------


def parse_to_dir(pdf: Path, out: Path, card: CardInfo, limits: PdfSettings, *,
                 images: bool = True) -> ParseResult:
    """Parse `pdf` into `out` (created) in this process."""
    out.mkdir(parents=True, exist_ok=True)
    with open_pdf(pdf, limits.max_bytes) as doc:
        count = min(doc.page_count, limits.max_pages)
        result = extract_text(doc, count, out)
        result.pages = doc.page_count
        if images:
            pages = render_pages(doc, out / "pages", limits.page_width_px, count)
            result.page_images = [p.relative_to(out).as_posix() for p in pages]
    render_title_card(card, out / result.title_card)
    return result


def extract_text(doc: pymupdf.Document, count: int, out: Path) -> ParseResult:
    """text.txt and sections.json of the first `count` pages, unless there is no text layer."""
    try:
        pages = [pt.read_page(doc[n], n + 1) for n in range(count)]
    except RuntimeError as exc:  # MuPDF gave up on a damaged content stream
        raise CorruptPdf(f"unreadable page content: {exc}") from exc
    stamp = next((p.stamp for p in pages if p.stamp), None)
    chars = sum(p.chars for p in pages) - (len(stamp) if stamp else 0)
    result = ParseResult(doc.page_count, count, chars >= MIN_CHARS_PER_PAGE * count, chars, "")
    if not result.has_text_layer:
        return result
    body = pt.body_size(pages)
    pt.drop_furniture(pages, body)
    vocab = pt.Vocabulary([ln.text for p in pages for b in p.blocks for ln in b.lines])
    ordered: list[pt.Block] = []
    for page in pages:
        pt.set_aside_footnotes(page, body)
        ordered += pt.reading_order(page)
    paras = pt.paragraphs(ordered, body, vocab)  # one pass: sentences run across pages
    notes = [pt.Para(pt.join_lines([ln.text for ln in b.lines], vocab), b.page)
             for page in pages for b in page.notes]
    sections, references = build_sections(pt.split_run_in(paras))
    text, records = layout(sections)
    result.chars = len(text)
    result.title = pt.title_of(pages[0], body) if pages else ""
    result.sections = [s.heading for s in sections if s.heading]
    result.text_file, result.sections_file = "text.txt", "sections.json"
    (out / result.text_file).write_text(text, encoding="utf-8")
    structure = {"format": FORMAT, "title": result.title, "stamp": stamp,
                 "pages": doc.page_count, "pages_parsed": count, "has_text_layer": True,
                 "chars": len(text), "sections": records,
                 "references": [{"page": p.page, "text": p.text} for p in references],
                 "footnotes": [{"page": p.page, "text": p.text} for p in notes]}
    (out / result.sections_file).write_text(json.dumps(structure, ensure_ascii=False, indent=1),
                                            encoding="utf-8")
    return result


@dataclass
class Section:
    kind: str
    title: str = ""
    number: str = ""
    level: int = 0
    page: int = 1
    paras: list[pt.Para] = field(default_factory=list)

    @property
    def heading(self) -> str:
        return f"{self.number} {self.title}".strip()


def build_sections(paras: list[pt.Para]) -> tuple[list[Section], list[pt.Para]]:
    """Group paragraphs under their headings; the reference list is split off."""
    sections = [Section("front")]
    references: list[pt.Para] = []
    in_references = after_references = False
    top = 0
    for para in paras:
        if para.level and para.number.split(".")[0].isdigit():
            number = int(para.number.split(".")[0])
            if number < top and not after_references:  # a bold numbered list, not a section
                para = pt.Para(f"{para.number} {para.text}", para.page, size=para.size)
            top = max(top, number)
        if para.level:
            kind = pt.kind_of(para.text)
            in_references = kind == "references"
            if in_references:
                after_references = True
                continue
            level = para.level
            if kind == "section" and level > 1 and sections[-1].kind != "front":
                kind = sections[-1].kind  # a subsection belongs to its section
            if after_references and kind == "section":
                kind, level = "appendix", 1 if len(para.number) <= 1 else level
            sections.append(Section(kind, para.text, para.number, level, para.page))
        elif in_references:
            references.append(para)
        else:
            sections[-1].paras.append(para)
    _find_unlabelled_abstract(sections)
    return [s for s in sections if s.paras or s.level], references


def _find_unlabelled_abstract(sections: list[Section]) -> None:
    """ACM journals print the abstract with no heading: the first prose paragraph of the
    front matter (title, authors) becomes the abstract when no heading says so."""
    if any(s.kind == "abstract" for s in sections):
        return
    front = sections[0]
    for i, para in enumerate(front.paras):
        if len(para.text) >= 400 and para.text.count(". ") >= 2:
            sections.insert(1, Section("abstract", "Abstract", "", 1, para.page, front.paras[i:]))
            del front.paras[i:]
            return


def layout(sections: list[Section]) -> tuple[str, list[dict]]:
    """text.txt and the section records with their character offsets into it."""
    parts: list[str] = []
    records: list[dict] = []
    offset = 0

    def add(piece: str) -> tuple[int, int]:
        nonlocal offset
        if parts:
            parts.append("\n\n")
            offset += 2
        start = offset
        parts.append(piece)
        offset += len(piece)
        return start, offset

    for index, section in enumerate(sections):
        start = add(section.heading)[0] if section.heading else None
        paragraphs: list[dict[str, Any]] = []
        for para in section.paras:
            p_start, p_end = add(para.text)
            paragraphs.append({"page": para.page, "start": p_start, "end": p_end,
                               "text": para.text})
        if start is None:
            start = paragraphs[0]["start"] if paragraphs else offset
        records.append({"index": index, "kind": section.kind, "title": section.title,
                        "number": section.number, "level": section.level,
                        "page": section.page, "start": start, "end": offset,
                        "paragraphs": paragraphs})
    return "".join(parts) + "\n", records


# --- in a child process -----------------------------------------------------------------------


@cache
def _context() -> multiprocessing.context.ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["radio.ingest.pdf_parse"])
    return context


def parse_isolated(pdf: Path, out: Path, card: CardInfo, limits: PdfSettings, *,
                   images: bool = True) -> ParseResult:
    """`parse_to_dir` in a child process with a timeout; `out` is replaced only on success."""
    staging = out.parent / f".{out.name}.{temp_tag()}.tmp-{uuid.uuid4().hex[:8]}"
    receiver, sender = _context().Pipe(duplex=False)
    child = _context().Process(target=_child, args=(sender, pdf, staging, card, limits, images),
                               name=f"pdf-parse-{out.parent.name}", daemon=True)
    try:
        child.start()
        sender.close()
        outcome = _wait(child, receiver, limits.timeout_s)
        if outcome[0] != "ok":
            raise _ERRORS.get(outcome[1], PdfError)(outcome[2])
        _swap_in(staging, out)
        return outcome[1]
    finally:
        if child.is_alive():
            child.kill()
        child.join()
        receiver.close()
        shutil.rmtree(staging, ignore_errors=True)


def _wait(child: multiprocessing.process.BaseProcess, receiver: Connection,
          timeout_s: float) -> tuple:
    if not receiver.poll(timeout_s):
        child.kill()
        raise ParseTimeout(f"parse took longer than {timeout_s:g} s and was stopped")
    try:
        return receiver.recv()
    except EOFError:
        child.join(5)
        raise ParserCrashed(f"the parser process died (exit code {child.exitcode})") from None


def _swap_in(staging: Path, out: Path) -> None:
    """Rename the staged directory over `out`, moving any earlier one aside first."""
    old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
    if out.exists():
        os.replace(out, old)
    os.replace(staging, out)
    shutil.rmtree(old, ignore_errors=True)


def _child(sender: Connection, pdf: Path, out: Path, card: CardInfo, limits: PdfSettings,
           images: bool) -> None:
    try:
        cap = limits.max_memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        pymupdf.TOOLS.mupdf_display_errors(False)
        sender.send(("ok", parse_to_dir(pdf, out, card, limits, images=images)))
    except PdfError as exc:
        sender.send(("error", type(exc).__name__, str(exc)))
    except MemoryError:
        sender.send(("error", "PdfTooLarge", f"needs more than {limits.max_memory_mb} MB"))
    except Exception as exc:  # MuPDF errors on damaged files come in many types
        sender.send(("error", "CorruptPdf", f"{type(exc).__name__}: {exc}"))
    finally:
        sender.close()
