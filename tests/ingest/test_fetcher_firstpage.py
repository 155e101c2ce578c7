"""Metadata from a PDF's own first page (for `radio ingest` of local files), on the corpus."""

from __future__ import annotations

import csv
import re

import pytest

from radio.ingest.firstpage import read_first_page
from tests.conftest import CORPUS


def _rows() -> list[dict[str, str]]:
    with (CORPUS / "MANIFEST.tsv").open(newline="") as handle:
        return [row for row in csv.DictReader(handle, delimiter="\t")
                if row["file"].startswith("pdf/")]


def _plain(text: str) -> str:
    return " ".join(text.casefold().split())


@pytest.mark.parametrize("row", _rows(), ids=lambda row: row["file"])
def test_title_and_stamp_match_the_manifest(row: dict[str, str]) -> None:
    page = read_first_page(CORPUS / row["file"])
    # The manifest adds notes such as "(pages 1-2 only)" to excerpts' titles.
    title = re.sub(r"\s*\((?:pages? [\d-]+ only|first \d+ pages)\)$", "", row["title"])
    if "page 9 only" in row["title"]:
        assert page.title == ""  # page 1 of this excerpt is page 9: no title on it
    else:
        assert _plain(page.title) == _plain(title)
    stamped = "NO arXiv margin stamp" not in row["notes"] and "excerpt-p9" not in row["file"]
    assert page.arxiv_id == (row["arxiv_id"] if stamped else None)


def test_authors_and_abstract_of_a_two_column_paper() -> None:
    page = read_first_page(CORPUS / "pdf/2312.10997v5.pdf")
    assert page.authors[:3] == ["Yunfan Gao", "Yun Xiong", "Xinyu Gao"]
    assert page.abstract.startswith("Large Language Models (LLMs) showcase impressive "
                                    "capabilities but encounter challenges like hallucination")
    assert page.primary_category == "cs.CL"
    assert page.stamp_date is not None and page.stamp_date.date().isoformat() == "2024-03-27"


@pytest.mark.parametrize(("name", "reason"), [
    ("bad/not_a_pdf_corrupted.pdf", "Failed to open"),
    ("bad/2206.01062_pg3_encrypted_password-1234.pdf", "is encrypted"),
])
def test_unreadable_files_raise(name: str, reason: str) -> None:
    with pytest.raises(Exception, match=reason):
        read_first_page(CORPUS / name)



@pytest.mark.parametrize(("name", "author", "starts", "ends"), [
    # REVTeX: no "Abstract" heading; LaTeX's spacing accents (Teˇsanovi´c) in a name.
    ("pdf/1111.2011v2.pdf", "Zlatko Tešanović", "Theoretical description of anisotropic",
     "the theory describing a single node."),
    # ACM: no heading either, and a superscript that widens one line's step.
    ("pdf/2203.00130v1.pdf", "LUCY LU WANG", "When seeking information not covered in "
     "patient-friendly documents", "more confidence to approach these papers."),
])
def test_abstract_without_a_heading(name: str, author: str, starts: str, ends: str) -> None:
    page = read_first_page(CORPUS / name)
    assert author in page.authors
    assert page.abstract.startswith(starts) and page.abstract.endswith(ends)
