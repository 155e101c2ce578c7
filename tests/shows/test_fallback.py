"""The fallback without the LLM: dialogue from the papers' fact sheets, checked like the
model's lines.

Real corpus papers; no model. A listener must never hear a figure caption, citation debris
or the paper's "we", never twelve words of the paper in a row, and every number said must
be the paper's.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from radio.artifacts import DataRoot
from radio.config import Settings, WriterSettings
from radio.messages import ShowRequested
from radio.shows.checks import line_problems
from radio.shows.script import Script
from radio.shows.speakable import speakable
from radio.shows.writing import write_show
from radio.store import Store
from radio.understanding.chunks import make_chunks
from radio.understanding.facts import WIRE, SheetBuilder, copy_run, number_passages
from radio.understanding.grounding import Source, check_grounding, normalise
from radio.understanding.summarize import Grounding, PaperText, SummaryRecord, summary_from
from tests.shows.corpus import CORPUS_PDF, add_papers, pdf_text

DAY = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
HOSTS = ["Alex", "Mira"]
# The counting paper's body is full of captions ("Left: input counting image.") and
# citation debris; AutoGen's abstract ends on an email and a URL; the strategic-reasoning
# survey's page-1 abstract runs into a figure's word list and "Figure 1:".
MESSY = ["1804.07821v1.pdf", "2308.08155v2.pdf", "2404.01230v1.pdf"]
TABLIB = "2310.07875v1_excerpt-p1-7.pdf"
DEBRIS = re.compile(r"\bfig(?:ure)?s?\.?\s*\d|\btable \d|\bsection \d|\bleft:|\bright:|"
                    r"\bmiddle:|https?:|@|\bet al\b|\[|\]|\$|\\|"
                    r"\b(?:by|in|of)\s*[,.]|corresponding author|preprint|"
                    r"\b[A-Z][a-z]+: [\"“]", re.I)
# The paper's voice; the hosts' own "we" (templates) and "walk us through" are fine.
AUTHOR_VOICE = re.compile(r"\b(?:we|our)\b", re.I)
NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")


def settings_at(tmp_path: Path, **writer: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", writer=WriterSettings(**writer))


def daily(length_s: int) -> ShowRequested:
    return ShowRequested(show_id="daily-2026-11-20", kind="daily", date="2026-11-20",
                         length_s=length_s, categories=["cs.CL", "cs.CV", "cs.AI"])


def numbers(text: str) -> set[float]:
    return {float(n.replace(",", "")) for n in NUMBER.findall(text)}


def assert_speakable(script: Script, sources: dict[str, str]) -> None:
    """No debris, whole sentences, nobody thrice in a row, no copies (a title is no copy),
    the paper's numbers."""
    titles = {p.arxiv_id: p.title for s in script.rundown.slots for p in s.papers}
    speakers = [line.speaker for line in script.lines]
    assert not any(a == b == c for a, b, c in zip(speakers, speakers[1:], speakers[2:],
                                                   strict=False)), speakers
    for line in script.lines:
        assert line_problems(line.text) == [], line.text
        assert not DEBRIS.search(line.text), line.text
        if line.paper_id:  # numbers come from the paper, never from a template
            assert not AUTHOR_VOICE.search(line.text), line.text
            assert numbers(line.text) <= numbers(sources[line.paper_id]), line.text
            untitled = line.text.replace(titles[line.paper_id], "")
            assert copy_run(untitled, sources[line.paper_id]) is None, line.text


def test_without_model_or_fact_sheets_a_show_names_its_papers_and_is_planned_short(
        tmp_path: Path) -> None:
    settings = settings_at(tmp_path, discussion_count=2)
    store, data = Store(settings.database_path), DataRoot(settings.data_dir)
    ids = add_papers(store, data, MESSY, DAY)
    script = write_show(settings, store, data, None, daily(240))
    store.close()
    abstracts = _abstracts(settings, ids)
    assert {s.source for s in script.blocks} <= {"summary", "template"}
    assert {line.paper_id for line in script.lines if line.paper_id} == set(ids)
    assert_speakable(script, {p: f"{a} {_title(script, p)}" for p, a in abstracts.items()})
    # Nothing read from the abstract, nothing padded: a short show that says why.
    assert script.planned_s < 120
    assert any("planned shorter" in p for p in script.problems)
    assert any("without the LLM" in p for p in script.problems)


def test_speakable_keeps_prose_and_drops_what_a_voice_cannot_read() -> None:
    body = pdf_text(CORPUS_PDF / MESSY[0])  # the counting paper, captions and all
    said = speakable(body)
    assert len(said) > 40
    assert not [s for s in said if DEBRIS.search(s)]
    assert "Counting is a common problem in computer vision (for example traffic on the " \
           "street or pedestrians in a crowd)." in said
    assert speakable("The authors reach 91.2% accuracy [12], see Table 3. We release it "
                     "at https://example.org. Our model is built on ResNet (He et al., 2016).") \
        == ["Their model is built on ResNet."]
    # A summary by the default model, as stored: its hook cites like the paper does.
    assert speakable("The importance of data in model training has continued to grow "
                     "[Hoffmann et al., 2022].") == [
        "The importance of data in model training has continued to grow."]


def test_a_segment_from_a_fact_sheet_asks_and_answers_with_the_key_result(
        tmp_path: Path) -> None:
    settings = settings_at(tmp_path, discussion_count=1)
    store, data = Store(settings.database_path), DataRoot(settings.data_dir)
    [tablib] = add_papers(store, data, [TABLIB], DAY)
    text = normalise(pdf_text(CORPUS_PDF / TABLIB))
    row = store.paper(tablib)
    # A fact sheet as the model wrote one here (one fact copies the paper), checked by
    # the summarizer's own checks against the paper's real passages, stored as it stores it.
    passages = number_passages(row["abstract"], make_chunks(text, None)[:6])
    builder = SheetBuilder(row["title"], [], passages, f"{row['abstract']}\n{text}")
    sheet = builder.build({
        WIRE["kind"]: "dataset", WIRE["short_name"]: "TabLib",
        WIRE["results"]: [{"finding_with_its_number": "TabLib holds 627 million tables, "
                           "about 69 TiB of data.", "metric_or_unit": "tables",
                           "dataset_or_setting": "", "compared_with": "", "passages": [1]}],
        WIRE["problem"]: {"fact": "Tables have had no large, diverse public dataset for "
                                  "training models.", "passages": [1]},
        WIRE["key_idea"]: {"fact": _sentence_with(text, "extracted from numerous file formats"),
                           "passages": [1]},
        WIRE["why_it_matters"]: {"fact": "A big table corpus could do for tables what large "
                                         "text corpora did for language models.",
                                 "passages": [1]}})
    assert sheet.results and sheet.key_idea is not None and sheet.key_idea.copied
    paper = PaperText(arxiv_id=tablib, version=1, title=row["title"],
                            abstract=row["abstract"], text=text)
    record = SummaryRecord(arxiv_id=tablib, version=1, title=row["title"], model="test",
                           mode="single", passages=[], summary=summary_from(sheet, paper),
                           facts=sheet, grounding=Grounding(rate=1.0, checked=4, dropped=[],
                                                            unsupported=[], attempts=1))
    store.record_summary(tablib, 1, record.model_dump_json(), 1.0, "test")
    script = write_show(settings, store, data, None, daily(120))
    store.close()

    lines = [line for s in script.blocks if s.slot.kind == "discussion" for line in s.lines]
    said = [line.text for line in lines]
    answer = next(n for n, t in enumerate(said) if "627 million" in t)
    assert answer > 0 and said[answer - 1].endswith("?")  # asked, then answered
    assert lines[answer - 1].speaker != lines[answer].speaker
    assert numbers(said[answer]) >= {627.0, 69.0}  # the numbers, kept exactly
    assert sum(row["title"] in t for t in said) == 1  # the full title once, then "TabLib"
    # The key idea's sentence is the paper's own: the fallback never reads it out.
    assert not any("extracted from numerous file formats" in t for t in said)
    assert_speakable(script, {tablib: f"{row['abstract']} {text}"})
    report = check_grounding(said, Source(f"{row['title']} {text}"), allowed=HOSTS)
    assert report.rate == 1.0, report.lines


def _sentence_with(text: str, words: str) -> str:
    found = [s for s in re.split(r"(?<=[.!?])\s+", text) if words in s]
    assert found, words
    return found[0]


def _abstracts(settings: Settings, ids: list[str]) -> dict[str, str]:
    store = Store(settings.database_path)
    try:
        return {i: store.paper(i)["abstract"] for i in ids}
    finally:
        store.close()


def _title(script: Script, arxiv_id: str) -> str:
    return next(p.title for s in script.rundown.slots for p in s.papers
                if p.arxiv_id == arxiv_id)


@pytest.mark.parametrize("sentence", [
    "Left: input counting image. Middle: Ground truth density map.",
    "A fully convolutional approach has been proposed by, in which columns grow.",
    "All maps are colored here for clarity. of regression for production of density maps.",
    "The loss is $L = \\sum_i x_i$ over all pixels in the image.",
    "Results are shown in Figure 2 for all of the datasets we used.",
    "Density maps sum a Gaussian of a fixed size (σ) for each object.",
    'Player: "I bluff with a weak hand, baiting my opponent into betting more."',
    "Prompt Engineering Learning-Based Prompting Task-Specific Prompting Module Memory.",
])
def test_debris_is_never_speakable(sentence: str) -> None:
    assert speakable(sentence) == []
