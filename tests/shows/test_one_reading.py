"""The LLM reads a paper once: the writer waits for the summarizer that is reading a paper
its show needs, and a fact sheet the writer makes itself becomes the paper's summary, which
the summarizer then publishes without reading the paper again
(radio/understanding/summaries.py). The model is the tiny one from PyPI."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from radio.artifacts import DataRoot
from radio.backends.llm import load_llm, tiny_model_path
from radio.config import LLMSettings, SamplingSettings, Settings
from radio.shows.papers import load_papers
from radio.shows.writing import ShowWriter
from radio.store import Store
from radio.understanding.facts import Fact, FactSheet
from radio.understanding.summaries import (
    being_read_by,
    mark_reading,
    save_summary,
    stored_facts,
)
from radio.understanding.summarize import Grounding, Summary, SummaryRecord
from tests.shows.corpus import add_papers


class Counting:
    """The real LLM, counting its calls."""

    def __init__(self, llm) -> None:
        self.llm, self.name, self.n_ctx, self.calls = llm, llm.name, llm.n_ctx, 0

    def count_tokens(self, text: str) -> int:
        return self.llm.count_tokens(text)

    def chat(self, messages, *, sampling, schema=None) -> str:
        self.calls += 1
        return self.llm.chat(messages, sampling=sampling, schema=schema)


@pytest.fixture
def station(tmp_path: Path):
    settings = Settings(data_dir=tmp_path / "data", llm=LLMSettings(
        model_path=tiny_model_path(), n_ctx=4096, n_threads=1,
        summary=SamplingSettings(temperature=0.0, max_tokens=600, seed=7)))
    store, data = Store(settings.database_path), DataRoot(settings.data_dir)
    (arxiv_id,) = add_papers(store, data, ["2304.02623v1.pdf"], datetime.now(UTC))
    yield settings, store, data, arxiv_id
    store.close()


def _summarizers_record(arxiv_id: str, version: int) -> SummaryRecord:
    sheet = FactSheet(short_name="the summarizer's", key_idea=Fact(text="Read once."))
    return SummaryRecord(arxiv_id=arxiv_id, version=version, title="t", model="m",
                         mode="single", passages=[], summary=Summary(
                             hook="h", short="s", deep={"problem": "", "method": "",
                                                        "results": "", "limits": ""},
                             key_points=[]), facts=sheet,
                         grounding=Grounding(rate=1.0, checked=1, dropped=[], unsupported=[],
                                             attempts=1))


def test_the_writer_waits_for_the_summarizer_reading_the_paper(station) -> None:
    settings, store, data, arxiv_id = station
    (paper,) = load_papers(store, arxiv_ids=[arxiv_id])
    llm = Counting(load_llm(settings.llm))
    mark_reading(store, arxiv_id, paper.version, "summarizer")
    started = time.monotonic()
    done = threading.Timer(1.5, save_summary, (store, data,
                                               _summarizers_record(arxiv_id, paper.version)))
    done.start()
    sheet = ShowWriter(settings, store, data, llm).sheet(paper)  # type: ignore[arg-type]
    done.join()
    assert time.monotonic() - started >= 1.4  # it waited for the summarizer ...
    assert sheet is not None and sheet.short_name == "the summarizer's"
    assert llm.calls == 0  # ... and did not read the paper itself


@pytest.mark.slow
def test_a_sheet_the_writer_makes_is_the_papers_summary(station) -> None:
    settings, store, data, arxiv_id = station
    (paper,) = load_papers(store, arxiv_ids=[arxiv_id])
    llm = Counting(load_llm(settings.llm))
    sheet = ShowWriter(settings, store, data, llm).sheet(paper)  # type: ignore[arg-type]
    assert llm.calls == 1 and sheet is not None
    assert store.stage(arxiv_id, paper.version, "summary") == "done"
    assert being_read_by(store, arxiv_id, paper.version) is None
    assert stored_facts(store, arxiv_id, paper.version) == sheet
    (again,) = load_papers(store, arxiv_ids=[arxiv_id])
    assert again.summary is not None and again.facts == sheet  # the next show reads it


def test_a_reader_that_died_is_not_waited_for(station, monkeypatch: pytest.MonkeyPatch) -> None:
    from radio.understanding import summaries

    _, store, _, arxiv_id = station
    mark_reading(store, arxiv_id, 1, "summarizer")
    assert being_read_by(store, arxiv_id, 1) == "summarizer"
    monkeypatch.setattr(summaries, "READ_WAIT_S", 0.0)  # its mark is now older than that
    assert being_read_by(store, arxiv_id, 1) is None
