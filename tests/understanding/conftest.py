"""Real corpus papers, parsed by the pdf code, and the real embedding model, shared by tests."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from radio.backends.embedder import Embedder, load_embedder
from radio.config import EmbedderSettings, PdfSettings
from radio.ingest.pdf_images import CardInfo
from radio.ingest.pdf_parse import parse_to_dir
from radio.store import Store
from tests.ingest.pdf_corpus import manifest
from tests.support.settings import CORPUS
from tests.support.understanding import CorpusPaper, abstract_of


@pytest.fixture(scope="session")
def corpus_papers(tmp_path_factory: pytest.TempPathFactory) -> dict[str, CorpusPaper]:
    """Every corpus PDF with a text layer, parsed by radio.ingest (no page images)."""
    out_root = tmp_path_factory.mktemp("parsed")
    papers: dict[str, CorpusPaper] = {}
    for file, row in manifest().items():
        if not file.startswith("pdf/"):
            continue
        match = re.match(r"(\d{4}\.\d{4,5})(?:v(\d+))?", row["arxiv_id"])
        assert match, row
        arxiv_id, version = match.group(1), int(match.group(2) or 1)
        title = re.sub(r"\s*\((?:pages?|first) [^)]*\)$", "", row["title"])
        out = out_root / arxiv_id
        parse_to_dir(CORPUS / file, out, CardInfo(arxiv_id, title), PdfSettings(), images=False)
        text = (out / "text.txt").read_text(encoding="utf-8")
        sections = json.loads((out / "sections.json").read_text(encoding="utf-8"))
        yymm = arxiv_id[:4]
        papers[arxiv_id] = CorpusPaper(arxiv_id, version, title, abstract_of(sections, text),
                                       text, sections, f"20{yymm[:2]}-{yymm[2:]}-01T00:00:00")
    return papers


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return load_embedder(EmbedderSettings())


@pytest.fixture
def store(tmp_path: Path) -> Store:
    db = Store(tmp_path / "radio.sqlite3")
    yield db
    db.close()
