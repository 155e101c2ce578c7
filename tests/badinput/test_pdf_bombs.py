"""PDFs built to hurt a parser, through the pdf worker's own path (`parse_isolated`: a child
process with a timeout and a memory cap): each is parsed within bounds or refused with a
readable reason, and never leaves half an output behind.

The bombs are written here byte by byte (a PDF is text with an xref table), the
1,000-page paper with PyMuPDF.
"""

from __future__ import annotations

import json
import random
import time
import zlib
from pathlib import Path

import pymupdf
import pytest

from radio.config import PdfSettings
from radio.ingest.pdf_images import MAX_ASPECT, CardInfo
from radio.ingest.pdf_parse import CorruptPdf, ParseResult, parse_isolated

CARD = CardInfo(arxiv_id="2501.00001", title="A bomb of a paper")
LINE = "This page holds one line of real text, long enough to count as a text layer."
TEXT = b"BT /F1 11 Tf 72 700 Td (" + LINE.encode() + b") Tj ET"
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
LIMITS = PdfSettings()  # the worker's defaults: 60 pages, 120 s, 2 GB


def raw_pdf(objects: list[bytes]) -> bytes:
    """Objects numbered from 1 (1 is the catalogue), an xref table and a trailer."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def one_page(contents: bytes, *, box: bytes = b"[0 0 612 792]", resources: bytes = b"",
             more: tuple[bytes, ...] = ()) -> bytes:
    page = (b"<< /Type /Page /Parent 2 0 R /MediaBox " + box + b" /Resources << /Font << /F1 "
            b"4 0 R >> " + resources + b" >> /Contents 5 0 R >>")
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>",
                    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", page, FONT, contents, *more])


def deflated(pieces: int, piece: bytes) -> bytes:
    squeeze = zlib.compressobj(9)
    return b"".join(squeeze.compress(piece) for _ in range(pieces)) + squeeze.flush()


def spaces_then_text() -> bytes:
    """256 MB of spaces, then the line of text, deflated to about 260 KB."""
    squeeze = zlib.compressobj(9)
    spaces = b"".join(squeeze.compress(b" " * (16 << 20)) for _ in range(16))
    return spaces + squeeze.compress(TEXT) + squeeze.flush()


BOMBS = {
    # A page box 200 km wide (MuPDF's own limit is far above what a render could hold).
    "huge page box": lambda: one_page(stream(TEXT), box=b"[0 0 14400000 14400000]"),
    # 100,000 nested arrays in the page's resources.
    "deep nesting": lambda: one_page(stream(TEXT),
                                     resources=b"/Deep " + b"[" * 100_000 + b"]" * 100_000),
    # A 60,000 x 60,000 RGB image (10.8 GB decoded) from 62 KB of deflated zeros.
    "giant image": lambda: one_page(
        stream(b"q 400 0 0 400 100 200 cm /Im1 Do Q " + TEXT),
        resources=b"/XObject << /Im1 6 0 R >>",
        more=(stream(deflated(4, bytes(16 << 20)), b"/Type /XObject /Subtype /Image /Width "
                     b"60000 /Height 60000 /BitsPerComponent 8 /ColorSpace /DeviceRGB "
                     b"/Filter /FlateDecode"),)),
    # A content stream of 256 MB of spaces in 260 KB.
    "deflate bomb": lambda: one_page(stream(spaces_then_text(), b"/Filter /FlateDecode")),
}


def parse(pdf: Path, out: Path) -> tuple[ParseResult, float]:
    started = time.monotonic()
    result = parse_isolated(pdf, out, CARD, LIMITS)
    return result, time.monotonic() - started


@pytest.mark.parametrize("name, text", [("huge page box", True), ("giant image", True),
                                        ("deflate bomb", True), ("deep nesting", False)])
@pytest.mark.slow
def test_a_bomb_is_parsed_within_bounds(name: str, text: bool, tmp_path: Path) -> None:
    """Deep nesting: MuPDF drops the page's broken resources, fonts with them, so the page
    reads as one without a text layer (a page image, no text), like a scanned paper."""
    pdf = tmp_path / "bomb.pdf"
    pdf.write_bytes(BOMBS[name]())
    out = tmp_path / "paper" / "v1"
    result, took = parse(pdf, out)
    assert took < 60, took
    assert result.has_text_layer is text
    assert not text or LINE in (out / "text.txt").read_text()
    (image,) = result.page_images
    pix = pymupdf.Pixmap(out / image)
    assert pix.width == 1280 and pix.height <= 1280 * MAX_ASPECT
    assert sorted(p.name for p in (tmp_path / "paper").iterdir()) == ["v1"]  # no leftovers


def test_nested_graphics_states_are_refused_with_the_reason(tmp_path: Path) -> None:
    pdf = tmp_path / "bomb.pdf"
    pdf.write_bytes(one_page(stream(b"q " * 200_000 + TEXT + b" Q" * 200_000)))
    with pytest.raises(CorruptPdf, match="too many nested graphics states"):
        parse(pdf, tmp_path / "paper" / "v1")
    assert list((tmp_path / "paper").iterdir()) == []  # nothing half-written


@pytest.mark.slow
def test_a_thousand_pages_are_cut_at_the_page_limit(tmp_path: Path) -> None:
    pdf = tmp_path / "thousand.pdf"
    with pymupdf.open() as doc:
        words = LINE.rstrip(".").split()
        for number in range(1, 1001):  # each page its own words, so none reads as a header
            random.Random(number).shuffle(words)
            doc.new_page().insert_textbox(pymupdf.Rect(72, 200, 540, 400),
                                          f"Page {number}: {' '.join(words)}.", fontsize=11)
        doc.save(pdf)
    out = tmp_path / "paper" / "v1"
    result, took = parse(pdf, out)
    assert took < 60, took
    assert result.pages == 1000 and len(result.page_images) == LIMITS.max_pages == 60
    sections = json.loads((out / "sections.json").read_text())
    assert sections["pages"] == 1000 and sections["pages_parsed"] == 60
    text = (out / "text.txt").read_text()
    assert "Page 1:" in text and "Page 60:" in text and "Page 61:" not in text
