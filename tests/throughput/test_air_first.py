"""The summarizer spends the LLM on papers bound for air first (issue #14)."""

from __future__ import annotations

import asyncio

import pytest

from radio.artifacts import DataRoot
from radio.backends.llm import tiny_model_path
from radio.config import LLMSettings, SamplingSettings, Settings
from radio.messages import PaperSummarized, ShowRequested
from radio.shows.airbound import air_bound
from radio.shows.records import record_request
from radio.store import Store
from tests.support.harness import BusProbe, running_worker
from tests.support.understanding import (
    CorpusPaper,
    corpus_papers,  # noqa: F401  (a fixture)
    insert_papers,
)
from tests.understanding.test_workers import parsed_message


async def _until_taken(store: Store, paper: CorpusPaper, timeout: float = 900) -> None:
    async with asyncio.timeout(timeout):
        while store.stage(paper.arxiv_id, paper.version, "summary") is None:
            await asyncio.sleep(0.1)


def _news(arxiv_id: str) -> ShowRequested:
    return ShowRequested(show_id=f"news-{arxiv_id}", kind="deep_dive", date="2026-12-07",
                         length_s=60, paper_ids=[arxiv_id])


@pytest.mark.slow
@pytest.mark.timeout(1200)  # three summaries by the tiny model: ~1 min on 2 idle cores
async def test_air_bound_papers_are_summarized_first(
        settings: Settings, corpus_papers: dict[str, CorpusPaper]) -> None:  # noqa: F811
    settings = settings.model_copy(update={"llm": LLMSettings(
        model_path=tiny_model_path(), n_ctx=2048, n_threads=1, summary_passages=1,
        summary_regenerations=0, summary=SamplingSettings(temperature=0.2, max_tokens=900,
                                                          seed=3))})
    papers = sorted(corpus_papers.values(), key=lambda p: len(p.text))[:4]
    first, later, named, plain = papers
    data = DataRoot(settings.data_dir)
    store = Store(settings.database_path)
    insert_papers(store, papers)
    record_request(store, _news(named.arxiv_id))  # a show waits for this one already
    assert air_bound(store, settings) == {named.arxiv_id}
    async with BusProbe(settings, ["papers/#"]) as probe, \
            running_worker("summarizer", settings) as worker:
        await probe.publish(parsed_message(data, first))
        async with asyncio.timeout(60):  # the worker is on it: the rest wait in its queue
            while store.stage(first.arxiv_id, first.version, "summary") != "pending":
                await asyncio.sleep(0.05)
        for paper in (plain, later, named):
            await probe.publish(parsed_message(data, paper))
        async with asyncio.timeout(30):
            while len(worker.queued) < 3:
                await asyncio.sleep(0.05)
        assert (worker.status_detail()["queued_for_air"],
                worker.status_detail()["queued_background"]) == (1, 2)
        # `later` becomes air-bound while it waits: it moves up, behind `named`.
        record_request(store, _news(later.arxiv_id))
        await worker.refresh_air()  # (or the background look got there first)
        assert (worker.status_detail()["queued_for_air"],
                worker.status_detail()["queued_background"]) == (2, 1)
        # Which paper the worker takes next shows in its stage (pending from the start):
        # after `first`, `named`, then `later`; `plain` waits for an idle LLM.
        await _until_taken(store, named)
        assert store.stage(later.arxiv_id, later.version, "summary") is None
        await _until_taken(store, later)
        assert store.stage(plain.arxiv_id, plain.version, "summary") is None
        done = await probe.expect(PaperSummarized, timeout=60)
        assert done.arxiv_id == first.arxiv_id
        # let `later` finish: a stop mid-generation would leave the model's thread running
        await probe.expect(PaperSummarized, timeout=900,
                           where=lambda m: m.arxiv_id == later.arxiv_id)
    store.close()
