"""The grounding check on a real corpus paper's text."""

from __future__ import annotations

import pytest

from radio.understanding.grounding import Source, check_grounding, claims_of
from tests.support.understanding import CorpusPaper

PAPER = "2304.02623"


@pytest.fixture
def text(corpus_papers: dict[str, CorpusPaper]) -> str:
    paper = corpus_papers[PAPER]
    return f"{paper.title}\n{paper.abstract}\n{paper.text}"


def test_a_number_that_is_not_in_the_paper_is_flagged(text: str) -> None:
    source = Source(text)
    assert not source.has_number("83.7")  # the check below must be able to pass or fail
    report = check_grounding([
        "The authors sketch three components for AI support.",
        "Their writing assistant improved essay quality by 83.7 percent.",
    ], text)
    assert [v.ok for v in report.lines] == [True, False]
    assert report.lines[1].unsupported == ["83.7"]
    assert report.rate == 0.5
    assert report.failed == [1]


def test_numbers_in_the_paper_pass_in_any_notation(corpus_papers: dict[str, CorpusPaper]
                                                   ) -> None:
    tablib = corpus_papers["2310.07875"]  # "627M tables", "69 TiB", "867B tokens"
    source = Source(tablib.text + tablib.title)
    assert source.has_number("627")
    report = check_grounding(["TabLib holds 627M tables."], source)
    assert report.lines[0].ok, report.lines[0]


def test_named_methods_and_datasets_must_be_in_the_paper(text: str) -> None:
    report = check_grounding([
        "They compare their approach with GPT-4 on ImageNet.",
        "Large language models could support literature reviews.",
    ], text)
    assert report.lines[0].unsupported == ["GPT-4", "ImageNet"]
    assert report.lines[1].ok


def test_names_in_the_paper_pass_and_allowed_words_are_not_claims(
        corpus_papers: dict[str, CorpusPaper]) -> None:
    rag = corpus_papers["2312.10997"]
    lines = ["Right, Mira, this survey covers Naive RAG, Advanced RAG and Modular RAG.",
             "It also discusses fine-tuning versus RAG for LLMs."]
    report = check_grounding(lines, rag.text, allowed=["Mira"])
    assert report.rate == 1.0, report.lines
    assert "Mira" in claims_of(lines[0])  # only `allowed` lets a host's name through


def test_claims_ignore_sentence_starts_and_keep_versions_whole() -> None:
    assert claims_of("The model beats GPT-4 by 3.5 points.") == ["GPT-4", "3.5"]
    assert claims_of("However, results vary.") == []
    assert check_grounding([], "anything").rate == 1.0


@pytest.mark.parametrize(("value", "kept"), [
    # seen in a summary, December 2026: the fact was cut at the schema's 200 characters
    ("Expository writing occurs in many real-world tasks, and we argue it is a high value "
     "open problem, with many challenges and o",
     "Expository writing occurs in many real-world tasks, and we argue it is a high value "
     "open problem."),
    ("TabLib holds 627 million tables. It was built from GitHub and Common Cr",
     "TabLib holds 627 million tables."),
    ("It reads tables from many file form", "It reads tables."),
    # a news show's outro, December 2026: "... by incorporating external."
    ("RAG helps to reduce the problem of generating factually incorrect content by "
     "incorporating external", "RAG helps to reduce the problem of generating factually "
     "incorrect content."),
    ("Tables improve models trained on large corpora of spreadsh",
     "Tables improve models trained on large corpora."),
    ("Three words kept stays", "Three words kept."),
    ("A whole sentence stays whole.", "A whole sentence stays whole."),
])
def test_a_fact_cut_at_its_length_cap_ends_on_a_whole_word(value: str, kept: str) -> None:
    from radio.understanding.facts import _whole_sentences

    assert _whole_sentences(value) == kept
