"""Real corpus papers as the understanding, search and web tests use them."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from radio.config import PdfSettings
from radio.ingest.pdf_images import CardInfo
from radio.ingest.pdf_parse import parse_to_dir
from radio.store import Operations, Store
from tests.ingest.pdf_corpus import manifest
from tests.support.settings import CORPUS

RAG_SURVEY = "2312.10997"
VISION = {"1804.07821", "1912.10667", "2203.06947", "2103.15348"}  # cs.CV in the manifest


@dataclass(frozen=True)
class CorpusPaper:
    arxiv_id: str
    version: int
    title: str
    abstract: str
    text: str
    sections: dict
    published: str  # the first day of the id's month: the corpus has no dates for most

    def store_in(self, store: Operations) -> None:
        store.upsert_paper(self.arxiv_id, self.version, title=self.title, authors=[],
                           abstract=self.abstract, categories=[], published=self.published,
                           source="local")


def abstract_of(sections: dict, text: str) -> str:
    for section in sections["sections"]:
        if section["kind"] == "abstract":
            return " ".join(p["text"] for p in section["paragraphs"])
    return " ".join(text.split()[:150])


def insert_papers(store: Store, papers: list[CorpusPaper]) -> None:
    with store.transaction() as t:
        for paper in papers:
            paper.store_in(t)


@dataclass(frozen=True)
class ParsedPdf:
    arxiv_id: str
    version: int
    title: str
    text: str
    sections: dict

    @property
    def abstract(self) -> str:
        return abstract_of(self.sections, self.text)


def parse_corpus_pdf(out_root: Path, file: str, row: dict[str, str]) -> ParsedPdf:
    """One corpus PDF (a MANIFEST row) parsed by radio.ingest into out_root/<id>/."""
    match = re.match(r"(\d{4}\.\d{4,5})(?:v(\d+))?", row["arxiv_id"])
    assert match, row
    arxiv_id, version = match.group(1), int(match.group(2) or 1)
    title = re.sub(r"\s*\((?:pages?|first) [^)]*\)$", "", row["title"])
    out = out_root / arxiv_id
    parse_to_dir(CORPUS / file, out, CardInfo(arxiv_id, title), PdfSettings(), images=False)
    text = (out / "text.txt").read_text(encoding="utf-8")
    sections = json.loads((out / "sections.json").read_text(encoding="utf-8"))
    return ParsedPdf(arxiv_id, version, title, text, sections)


@pytest.fixture(scope="session")
def corpus_papers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CorpusPaper]:
    """Every corpus PDF with a text layer, parsed by radio.ingest (no page images)."""
    out_root = tmp_path_factory.mktemp("parsed")
    papers: dict[str, CorpusPaper] = {}
    for file, row in manifest().items():
        if file.startswith("pdf/"):
            pdf = parse_corpus_pdf(out_root, file, row)
            yymm = pdf.arxiv_id[:4]  # the first day of the id's month
            papers[pdf.arxiv_id] = CorpusPaper(
                pdf.arxiv_id, pdf.version, pdf.title, pdf.abstract, pdf.text, pdf.sections,
                f"20{yymm[:2]}-{yymm[2:]}-01T00:00:00")
    return papers
