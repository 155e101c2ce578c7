"""Real corpus papers in a store, as the fetch and pdf stages would leave them.

Metadata comes from each PDF's own first page (title, authors, abstract, the arXiv stamp
with id, version and primary category) and the text from PyMuPDF: nothing is invented.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pymupdf

from radio.artifacts import DataRoot, parse_arxiv_id, sha256_file, write_atomic
from radio.ingest.firstpage import read_first_page
from radio.store import Store

CORPUS_PDF = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "pdf"
# Short, stamped computer-science papers with an abstract on page 1.
DEFAULT_PAPERS = ["2304.02623v1.pdf", "2310.07875v1_excerpt-p1-7.pdf", "1804.07821v1.pdf"]
DAILY_PAPERS = ["2304.02623v1.pdf", "2310.07875v1_excerpt-p1-7.pdf", "1804.07821v1.pdf",
                "2312.10997v5.pdf", "2308.08155v2.pdf", "2404.01230v1.pdf",
                "1912.10667v1.pdf", "2206.10883v3.pdf", "2103.15348v2_excerpt-p1-2.pdf"]


def pdf_text(path: Path) -> str:
    with pymupdf.open(path) as doc:
        return "\n\n".join(page.get_text() for page in doc)


def add_paper(store: Store, data: DataRoot, pdf: Path, fetched_at: datetime) -> str:
    """Insert one corpus PDF as a fetched and parsed paper; returns its arXiv id."""
    page = read_first_page(pdf)
    if not page.arxiv_id or not page.abstract:
        raise ValueError(f"{pdf.name}: no arXiv stamp or abstract on page 1")
    arxiv_id, version = parse_arxiv_id(page.arxiv_id)
    version = version or 1
    categories = [page.primary_category] if page.primary_category else []
    published = page.stamp_date.isoformat() if page.stamp_date else None
    text_path = write_atomic(data.paper_dir(arxiv_id) / "text.txt", pdf_text(pdf))
    with store.transaction() as t:
        t.upsert_paper(arxiv_id, version, title=page.title, authors=page.authors,
                       abstract=page.abstract, categories=categories,
                       primary_category=page.primary_category, published=published,
                       updated=published, announce_type="new", source="local")
        t.record_version(arxiv_id, version, str(pdf), sha256_file(pdf), fetched_at.isoformat())
        t.record_artifact(data.artifact(text_path), "text", arxiv_id)
    return arxiv_id


def add_papers(store: Store, data: DataRoot, names: list[str], fetched_at: datetime,
               ) -> list[str]:
    return [add_paper(store, data, CORPUS_PDF / name, fetched_at) for name in names]
