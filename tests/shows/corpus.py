"""Real corpus papers in a store, as the fetch and pdf stages would leave them.

Metadata comes from each PDF's own first page (title, authors, abstract, the arXiv stamp
with id, version and primary category) and the text from PyMuPDF: nothing is invented.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pymupdf

from radio.artifacts import DataRoot, parse_arxiv_id, sha256_file, write_atomic
from radio.ingest.firstpage import read_first_page
from radio.store import Store, now_iso

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
    with store.tx() as db:
        db.execute(
            "INSERT OR REPLACE INTO papers (arxiv_id, latest_version, title, authors, abstract,"
            " categories, primary_category, published, updated, licence_url, announce_type,"
            " source, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (arxiv_id, version, page.title, json.dumps(page.authors), page.abstract,
             json.dumps(categories), page.primary_category, published, published, None, "new",
             "local", now_iso()))
        db.execute(
            "INSERT OR REPLACE INTO versions (arxiv_id, version, pdf_path, pdf_sha256,"
            " fetched_at) VALUES (?,?,?,?,?)",
            (arxiv_id, version, str(pdf), sha256_file(pdf), fetched_at.isoformat()))
        db.execute(
            "INSERT OR REPLACE INTO artifacts (path, sha256, bytes, kind, owner, created_at)"
            " VALUES (?,?,?,?,?,?)",
            (text_path.relative_to(data.root).as_posix(), sha256_file(text_path),
             text_path.stat().st_size, "text", arxiv_id, now_iso()))
    return arxiv_id


def add_papers(store: Store, data: DataRoot, names: list[str], fetched_at: datetime,
               ) -> list[str]:
    return [add_paper(store, data, CORPUS_PDF / name, fetched_at) for name in names]
