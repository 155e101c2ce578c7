"""Metadata from a PDF's own first page (for `radio ingest` of local files), on the corpus."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pymupdf
import pytest

from radio.ingest.firstpage import read_first_page
from tests.support.settings import CORPUS


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


# Every author on page 1 of each corpus PDF, in order, transcribed from the page.
AUTHORS = {
    "1111.2011v2.pdf": ["James M. Murray", "Adrian Del Maestro", "Zlatko Tešanović"],
    "1708.05894v1.pdf": ["Joseph Futoma", "Sanjay Hariharan", "Katherine Heller",
                         "Mark Sendak", "Nathan Brajer", "Meredith Clement", "Armando Bedoya",
                         "Cara O’Brien"],
    # CVPR: a grid of cells (name, affiliation, e-mail); the old reader kept the first name.
    "1804.07821v1.pdf": ["Diptodip Deb", "Jonathan Ventura"],
    "1912.10667v1.pdf": ["Xueqing Deng", "Yi Zhu", "Yuxin Tian", "Shawn Newsam"],
    # LNCS: "Benjamin Charles Germain / Lee" breaks over two lines.
    "2103.15348v2_excerpt-p1-2.pdf": ["Zejiang Shen", "Ruochen Zhang", "Melissa Dell",
                                      "Benjamin Charles Germain Lee", "Jacob Carlson",
                                      "Weining Li"],
    # ACM prints names in capitals.
    "2203.00130v1.pdf": ["Tal August", "Lucy Lu Wang", "Jonathan Bragg", "Marti A. Hearst",
                         "Andrew Head", "Kyle Lo"],
    "2203.06947.pdf": ["Zhangxuan Gu", "Changhua Meng", "Ke Wang", "Jun Lan", "Weiqiang Wang",
                       "Ming Gu", "Liqing Zhang"],
    "2206.10883v3.pdf": ["Zejiang Shen", "Kyle Lo", "Lauren Yu", "Nathan Dahlberg",
                         "Margo Schlanger", "Doug Downey"],
    "2304.02623v1.pdf": ["Zejiang Shen", "Tal August", "Pao Siangliulue", "Kyle Lo",
                         "Jonathan Bragg", "Jeff Hammerbacher", "Doug Downey",
                         "Joseph Chee Chang", "David Sontag"],
    "2305.03393v1_excerpt-p9.pdf": [],
    # Figure labels under the names ("Agent Customization") are set smaller: not names.
    "2308.08155v2.pdf": ["Qingyun Wu", "Gagan Bansal", "Jieyu Zhang", "Yiran Wu", "Beibin Li",
                         "Erkang Zhu", "Li Jiang", "Xiaoyun Zhang", "Shaokun Zhang",
                         "Jiale Liu", "Ahmed Awadallah", "Ryen W. White", "Doug Burger",
                         "Chi Wang"],
    "2310.07875v1_excerpt-p1-7.pdf": ["Gus Eggert", "Kevin Huo", "Mike Biven", "Justin Waugh"],
    # "Yi Dai" (not an "AI" lab), and "Meng / Wang" broken over two lines.
    "2312.10997v5.pdf": ["Yunfan Gao", "Yun Xiong", "Xinyu Gao", "Kangxiang Jia", "Jinliu Pan",
                         "Yuxi Bi", "Yi Dai", "Jiawei Sun", "Meng Wang", "Haofen Wang"],
    # "de Wynter": a surname particle in lower case.
    "2404.01230v1.pdf": ["Yadong Zhang", "Shaoguang Mao", "Tao Ge", "Xun Wang",
                         "Adrian de Wynter", "Yan Xia", "Wenshan Wu", "Ting Song", "Man Lan",
                         "Furu Wei"],
}


def test_every_corpus_pdf_has_its_authors_listed() -> None:
    assert sorted(AUTHORS) == sorted(row["file"].removeprefix("pdf/") for row in _rows())


@pytest.mark.parametrize(("name", "authors"), AUTHORS.items())
def test_every_author_on_page_one(name: str, authors: list[str]) -> None:
    assert read_first_page(CORPUS / "pdf" / name).authors == authors


@pytest.mark.parametrize(("name", "title"), [
    # Small capitals (T + ABLIB) read as the capitals they stand for, not as "TABLIB".
    ("2310.07875v1_excerpt-p1-7.pdf", "TabLib: A Dataset of 627M Tables with Context"),
    ("2404.01230v1.pdf",
     "LLM as a Mastermind: A Survey of Strategic Reasoning with Large Language Models"),
    ("2203.06947.pdf", "XYLayoutLM: Towards Layout-Aware Multimodal Networks For Visually-Rich "
     "Document Understanding"),
])
def test_the_title_keeps_its_own_capitals(name: str, title: str) -> None:
    assert read_first_page(CORPUS / "pdf" / name).title == title


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
    ("pdf/2203.00130v1.pdf", "Lucy Lu Wang", "When seeking information not covered in "
     "patient-friendly documents", "more confidence to approach these papers."),
])
def test_abstract_without_a_heading(name: str, author: str, starts: str, ends: str) -> None:
    page = read_first_page(CORPUS / name)
    assert author in page.authors
    assert page.abstract.startswith(starts) and page.abstract.endswith(ends)


# Layouts of the two papers issue #10 names (2501.10120, 2203.00274), whose PDFs are not in
# the corpus: made here with PyMuPDF from made-up text, so they are no paper's page.

def _page(tmp_path: Path, name: str, runs: list[tuple[float, float, str, float, str]]) -> Path:
    """A one-page PDF; each run is (x, baseline y, font, size, text), drawn in that order."""
    path = tmp_path / name
    with pymupdf.open() as doc:
        page = doc.new_page(width=612, height=792)
        for x, y, font, size, text in runs:
            page.insert_text((x, y), text, fontname=font, fontsize=size)
        page.insert_text((72, 400), "Abstract", fontname="hebo", fontsize=12)
        page.insert_text((72, 420), "We study how a reader finds the names on a first page "
                         "and reports them all.", fontname="helv", fontsize=10)
        doc.save(path)
    return path


@pytest.mark.parametrize("drawn", ["top first", "bottom first"])
def test_a_title_whose_lines_differ_a_little_in_size_is_read_whole(
        tmp_path: Path, drawn: str) -> None:
    """The title's last line alone was taken for the title when it was a hair larger
    than the first (or drawn first): "Paper Search" for 2501.10120."""
    lines = [(90, 100, "hebo", 16.9, "XyZa: A Made-Up Agent for Comprehensive Synthetic"),
             (240, 121, "hebo", 17.3, "Layout Tests")]
    if drawn == "bottom first":
        lines.reverse()
    path = _page(tmp_path, "title.pdf", [*lines, (200, 160, "helv", 11, "Ana Example")])
    page = read_first_page(path)
    assert page.title == "XyZa: A Made-Up Agent for Comprehensive Synthetic Layout Tests"
    assert page.authors == ["Ana Example"]


def test_names_parted_only_by_superscript_marks(tmp_path: Path) -> None:
    """Authors set as "Name¹ Name¹ Name²" with no commas gave no author at all."""
    runs: list[tuple[float, float, str, float, str]] = [
        (150, 100, "hebo", 17, "A Made-Up Title for a Layout Test")]
    x = 90.0
    for name, mark in [("Ana Example", "1*"), ("Bo Sample", "1"), ("Cy Placeholder", "2"),
                       ("Dee de Test", "2")]:
        runs.append((x, 140, "helv", 11, name))
        x += pymupdf.get_text_length(name, fontname="helv", fontsize=11)
        runs.append((x + 0.5, 136, "helv", 7, mark))
        x += pymupdf.get_text_length(mark, fontname="helv", fontsize=7) + 8
    runs.append((200, 160, "helv", 10, "1 Example Institute   2 Sample University"))
    page = read_first_page(_page(tmp_path, "authors.pdf", runs))
    assert page.authors == ["Ana Example", "Bo Sample", "Cy Placeholder", "Dee de Test"]
