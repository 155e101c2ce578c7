"""PDF parsing on the real corpus: text, order, sections, images, and bad files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pymupdf
import pytest

from radio.config import PdfSettings
from radio.ingest.pdf_images import CardInfo, render_pages, render_title_card, title_card_pdf
from radio.ingest.pdf_parse import (
    EncryptedPdf,
    NotAPdf,
    ParseResult,
    PdfTooLarge,
    TruncatedPdf,
    parse_to_dir,
)
from tests.ingest.pdf_corpus import BAD, PDF, RAG, RAG_FIRST_SENTENCE, RAG_TITLE, manifest

LIMITS = PdfSettings()
CARD = CardInfo(arxiv_id="2312.10997", title=RAG_TITLE)
LIGATURES = re.compile("[\ufb00-\ufb06]")


def parse(pdf: Path, out: Path, **limits: object) -> tuple[ParseResult, str, dict]:
    result = parse_to_dir(pdf, out, CARD, LIMITS.model_copy(update=limits), images=False)
    text = (out / "text.txt").read_text() if result.text_file else ""
    doc = json.loads((out / "sections.json").read_text()) if result.sections_file else {}
    return result, text, doc


@pytest.fixture(scope="module")
def rag(tmp_path_factory: pytest.TempPathFactory) -> tuple[ParseResult, str, dict, Path]:
    out = tmp_path_factory.mktemp("rag") / "v5"
    result = parse_to_dir(RAG, out, CARD, LIMITS)
    return (result, (out / "text.txt").read_text(), json.loads((out / "sections.json").read_text()),
            out)


@pytest.mark.slow
def test_title_and_first_abstract_sentence_come_out_of_the_pdf(rag) -> None:
    result, text, doc, _ = rag
    assert result.title == RAG_TITLE == doc["title"]
    abstract = next(s for s in doc["sections"] if s["kind"] == "abstract")
    assert abstract["paragraphs"][0]["text"].startswith(RAG_FIRST_SENTENCE)
    assert RAG_FIRST_SENTENCE in text


def test_sections_in_order_with_references_split_off(rag) -> None:
    result, text, doc, _ = rag
    kinds = [s["kind"] for s in doc["sections"] if s["level"] == 1]
    assert kinds[:3] == ["abstract", "keywords", "introduction"]
    assert kinds[-1] == "conclusion"
    assert "RETRIEVAL" in [s["title"] for s in doc["sections"]]
    assert result.sections[:4] == ["Abstract", "Index Terms", "I INTRODUCTION",
                                   "II OVERVIEW OF RAG"]
    references = doc["references"]
    assert len(references) > 50 and references[0]["text"].startswith("[1] N. Kandpal")
    assert "Large language models struggle to learn long-tail knowledge" not in text


def test_offsets_point_into_text(rag) -> None:
    _, text, doc, _ = rag
    for section in doc["sections"]:
        assert text[section["start"]:section["end"]].startswith(
            f"{section['number']} {section['title']}".strip() if section["title"] else "")
        for para in section["paragraphs"]:
            assert text[para["start"]:para["end"]] == para["text"]


def test_two_column_reading_order(rag) -> None:
    _, text, _, _ = rag
    # Page 1: the left column ends mid-sentence, the right column goes on.
    assert "related research is shown in Figure 1. The development trajectory of RAG" in text
    # Page 2 to 3: a sentence cut by the column break and a figure caption joins up again.
    assert "gained prominence shortly after the widespread adoption of ChatGPT." in text
    intro = [text.index(s) for s in ("LARGE language models (LLMs) have achieved",
                                     "RAG technology has rapidly developed",
                                     "The burgeoning field of RAG", "Our contributions are")]
    assert intro == sorted(intro)


def test_revtex_two_columns(tmp_path: Path) -> None:
    _, text, doc, = parse(PDF / "1111.2011v2.pdf", tmp_path)[:3]
    titles = [s["title"] for s in doc["sections"] if s["level"] == 1]
    assert titles[:4] == ["Abstract", "INTRODUCTION", "SELF-CONSISTENT ACTION IN THE LARGE z "
                          "LIMIT", "CRITICAL POINT IN N →∞ LIMIT"]
    assert doc["sections"][1]["paragraphs"][0]["text"].startswith(  # REVTeX: no heading
        "Theoretical description of anisotropic systems, such as layered superconductors")
    assert "Zlatko Tešanović" in text  # TeX accents put back on their letters


def test_ligatures_expanded_and_hyphenation_joined(rag, tmp_path: Path) -> None:
    raw = "".join(page.get_text() for page in pymupdf.open(PDF / "1111.2011v2.pdf"))
    assert len(LIGATURES.findall(raw)) > 50  # the manifest counts 123 ligature glyphs
    _, text, _ = parse(PDF / "1111.2011v2.pdf", tmp_path)
    assert not LIGATURES.search(text)
    assert "field" in text and "find" in text
    _, rag_text, _, _ = rag
    assert not LIGATURES.search(rag_text)
    assert "impressive capabilities" in rag_text and "impres-" not in rag_text
    assert "domain-specific" in rag_text  # a real hyphen at a line end stays
    assert "state-of-the-art" in rag_text


def test_arxiv_stamp_and_running_headers_are_gone(rag, tmp_path: Path) -> None:
    _, text, doc, _ = rag
    assert doc["stamp"] == "arXiv:2312.10997v5 [cs.CL] 27 Mar 2024"
    assert "arXiv:2312.10997" not in text
    _, tablib, _ = parse(PDF / "2310.07875v1_excerpt-p1-7.pdf", tmp_path / "tablib")
    assert "TabLib A PREPRINT" not in tablib  # header of every page but the first
    _, plain, _ = parse(PDF / "2203.00130v1.pdf", tmp_path / "plain")
    header = "Paper Plain: Making Medical Research Papers Approachable to Healthcare Consumers"
    assert plain.count(header) == 1  # the title, not the running header of 39 pages
    assert not re.search(r"\n\n\d{1,2}\n\n", plain)  # no page numbers as paragraphs


def test_abstract_without_a_heading(tmp_path: Path) -> None:
    """ACM journals print the abstract with no heading, then CCS concepts and key words."""
    result, _, doc = parse(PDF / "2203.00130v1.pdf", tmp_path)
    assert result.sections[:4] == ["Abstract", "CCS Concepts",
                                   "Additional Key Words and Phrases", "1 INTRODUCTION"]
    abstract = doc["sections"][1]
    assert abstract["kind"] == "abstract" and abstract["paragraphs"][0]["text"].startswith(
        "When seeking information not covered in patient-friendly documents, like medical "
        "pamphlets, healthcare consumers may turn to the research literature.")
    assert [s["kind"] for s in doc["sections"][:5]] == [
        "front", "abstract", "keywords", "keywords", "introduction"]


@pytest.mark.slow
def test_page_counts_match_the_manifest(tmp_path: Path) -> None:
    rows = manifest()
    pdfs = sorted(PDF.glob("*.pdf"))
    assert len(pdfs) >= 10
    for pdf in pdfs:
        result = parse_to_dir(pdf, tmp_path / pdf.stem, CARD, LIMITS, images=False)
        assert result.pages == int(rows[f"pdf/{pdf.name}"]["pages"]), pdf.name
        assert result.has_text_layer and result.chars > 2000, pdf.name


def test_page_images_and_title_card(rag) -> None:
    result, _, _, out = rag
    assert result.page_images == [f"pages/{n:03d}.png" for n in range(1, 22)]
    first = pymupdf.Pixmap(out / "pages" / "001.png")
    assert (first.width, first.height) == (1280, 1657)  # US letter, 1280 px wide (rounded up)
    # Text-only pages are saved grey, pages with colour (page 2: the coloured RAG tree) RGB.
    assert (first.n, pymupdf.Pixmap(out / "pages" / "002.png").n) == (1, 3)
    card = pymupdf.Pixmap(out / "title_card.png")
    assert (card.width, card.height) == (1280, 720)
    assert not any(p.name.startswith(".") for p in out.rglob("*"))  # no temp files left


def test_page_limit_and_width_setting(tmp_path: Path) -> None:
    limits = LIMITS.model_copy(update={"max_pages": 3, "page_width_px": 640})
    result = parse_to_dir(PDF / "2308.08155v2.pdf", tmp_path, CARD, limits)
    assert (result.pages, result.pages_parsed, len(result.page_images)) == (43, 3, 3)
    assert pymupdf.Pixmap(tmp_path / "pages" / "003.png").width == 640


@pytest.mark.parametrize("name, pages", [("scanned_no_text_layer_1page.pdf", 1),
                                         ("scanned_no_text_layer_4pages_rotated.pdf", 4)])
def test_image_only_pdf_gets_page_images_and_no_text_status(tmp_path: Path, name: str,
                                                             pages: int) -> None:
    result = parse_to_dir(BAD / name, tmp_path, CARD, LIMITS)
    assert result.has_text_layer is False and result.text_file is None
    assert result.pages == pages == len(result.page_images)
    assert not (tmp_path / "text.txt").exists()
    assert all(pymupdf.Pixmap(tmp_path / p).width == 1280 for p in result.page_images)
    assert (tmp_path / "title_card.png").is_file()


def test_encrypted_pdf(tmp_path: Path) -> None:
    with pytest.raises(EncryptedPdf, match="password"):
        parse(BAD / "2206.01062_pg3_encrypted_password-1234.pdf", tmp_path)


@pytest.mark.parametrize("name", ["not_a_pdf_corrupted.pdf", "oai_http503_retry_after.html"])
def test_not_a_pdf(tmp_path: Path, name: str) -> None:
    with pytest.raises(NotAPdf, match="no %PDF header"):
        parse(BAD / name, tmp_path / "out")


def test_empty_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    with pytest.raises(NotAPdf, match="0 bytes"):
        parse(empty, tmp_path / "out")


@pytest.mark.parametrize("fraction", [0.02, 0.5, 0.999])
def test_truncated_pdf(tmp_path: Path, fraction: float) -> None:
    data = RAG.read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(data[:int(len(data) * fraction)])
    with pytest.raises(TruncatedPdf, match="cut short"):
        parse(cut, tmp_path / "out")


def test_too_large(tmp_path: Path) -> None:
    with pytest.raises(PdfTooLarge):
        parse(RAG, tmp_path, max_bytes=1_000_000)


def test_title_card_shows_untrusted_metadata_as_text(tmp_path: Path) -> None:
    card = CardInfo(arxiv_id="2501.00001", version=2, category="cs.AI", date="2025-01-01",
                    title="<b>Bold</b> & </p><p style='font-size:400px'>big",
                    authors=tuple(f"Author {n}" for n in range(20)), abstract="x < y. " * 200)
    with title_card_pdf(card) as doc:
        shown = " ".join(doc[0].get_text().split())
    assert "<b>Bold</b> & </p><p style='font-size:400px'>big" in shown  # escaped, not markup
    assert "arXiv:2501.00001v2 · cs.AI · 2025-01-01" in shown
    assert "Author 5 et al." in shown and "Author 6" not in shown
    pix = pymupdf.Pixmap(render_title_card(card, tmp_path / "card.png"))
    assert (pix.width, pix.height) == (1280, 720)


def test_a_freak_page_shape_is_cut_not_rendered_whole(tmp_path: Path) -> None:
    with pymupdf.open() as doc:  # a 1:50 strip: a few pages like it would exhaust memory
        doc.new_page(width=100, height=5000).insert_text((10, 20), "a very long strip")
        (image,) = render_pages(doc, tmp_path, 1280, 1)
    pix = pymupdf.Pixmap(image)
    assert (pix.width, pix.height) == (1280, 5120)
