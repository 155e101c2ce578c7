"""The corpus PDFs for the pdf tests: the manifest, and PaperFetched messages for them."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

from radio.artifacts import DataRoot
from radio.messages import PaperFetched
from tests.support.settings import CORPUS

PDF = CORPUS / "pdf"
BAD = CORPUS / "bad"
RAG = PDF / "2312.10997v5.pdf"
RAG_TITLE = "Retrieval-Augmented Generation for Large Language Models: A Survey"
# Transcribed from page 1 of the PDF (the corpus has no API record for 2312.10997): the
# first sentence of the abstract, which breaks "impres-|sive" across two lines there.
RAG_FIRST_SENTENCE = (
    "Large Language Models (LLMs) showcase impressive capabilities but encounter challenges "
    "like hallucination, outdated knowledge, and non-transparent, untraceable reasoning "
    "processes.")


def manifest() -> dict[str, dict[str, str]]:
    """MANIFEST.tsv rows by file name (relative to the corpus)."""
    with (CORPUS / "MANIFEST.tsv").open(newline="", encoding="utf-8") as handle:
        return {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}


def fetched(data: DataRoot, source: Path, arxiv_id: str = "2312.10997", version: int = 5,
            title: str = RAG_TITLE) -> PaperFetched:
    """Put `source` where the fetcher would and describe it as the fetcher would.

    Metadata for 2312.10997 comes from the paper's own first page (no API record in the
    corpus); other tests pass their own id and title.
    """
    target = data.paper_dir(arxiv_id) / f"{arxiv_id.replace('/', '_')}v{version}.pdf"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    return PaperFetched(
        arxiv_id=arxiv_id, version=version, title=title,
        authors=["Yunfan Gao", "Yun Xiong", "Xinyu Gao", "Kangxiang Jia", "Jinliu Pan"],
        abstract=RAG_FIRST_SENTENCE, categories=["cs.CL"], primary_category="cs.CL",
        source="local", pdf=data.artifact(target))
