"""Embeddings right after parsing: search, related papers and ranking never wait on the LLM;
the summary joins the paper's vector when it arrives, in place."""

from __future__ import annotations

import asyncio
import json

import numpy as np

from radio.artifacts import DataRoot, write_atomic
from radio.config import Settings
from radio.messages import PaperEmbedded, PaperParsed, PaperSummarized
from radio.store import Store
from radio.workers.embeddings import EmbeddingsWorker
from tests.support.harness import BusProbe, running_worker
from tests.support.understanding import VISION, CorpusPaper, insert_papers
from tests.understanding.test_workers import TOPICS, parsed_message


async def test_a_parsed_paper_is_embedded_before_its_summary(
        settings: Settings, corpus_papers: dict[str, CorpusPaper]) -> None:
    data = DataRoot(settings.data_dir)
    store = Store(settings.database_path)
    insert_papers(store, list(corpus_papers.values()))
    order = ["1804.07821", "1912.10667", "2203.06947", "2312.10997"]  # by publication
    async with BusProbe(settings, TOPICS) as probe, \
            running_worker("embeddings", settings) as worker:
        assert isinstance(worker, EmbeddingsWorker)
        for arxiv_id in order:  # no summary anywhere: straight from the pdf worker
            await probe.publish(parsed_message(data, corpus_papers[arxiv_id]))
            await probe.expect(PaperEmbedded, timeout=120,
                               where=lambda m, a=arxiv_id: m.arxiv_id == a)
        embedded = {m.arxiv_id: m for m in probe.messages(PaperEmbedded)}
        assert embedded["1804.07821"].novelty is None
        assert set(embedded["2203.06947"].related[:2]) <= VISION
        assert store.summary("2312.10997") is None
        assert store.stage("2312.10997", 5, "embed") == "done"
        assert [h.arxiv_id for h in worker.library.search("retrieval-augmented generation",
                                                           1)] == ["2312.10997"]
        # The summary arrives: the vector is embedded again with it, nothing is published.
        # (A paper whose title and abstract are short: the model reads ~256 tokens, so a
        # summary after a long abstract is cut off.)
        short = corpus_papers["2203.06947"]
        before = worker.library.index.vector(short.arxiv_id).copy()
        store.record_summary(short.arxiv_id, short.version, json.dumps(
            {"summary": {"short": "A survey of retrieval for language models."}}), 1.0, "m")
        summary = data.root / "summary.json"
        write_atomic(summary, "{}")
        await probe.publish(PaperSummarized(arxiv_id=short.arxiv_id, version=short.version,
                                            summary=data.artifact(summary), hook="h",
                                            grounding_rate=1.0))
        async with asyncio.timeout(60):
            while worker.updated < 1:
                await asyncio.sleep(0.05)
        after = worker.library.index.vector(short.arxiv_id)
        assert not np.allclose(before, after)
        assert np.allclose(after, worker.library.embedder.embed(
            [worker.library.text_of(short.arxiv_id)])[0], atol=1e-5)
        await asyncio.sleep(0.5)
        assert len(probe.messages(PaperEmbedded)) == len(order)  # no second announcement
        assert "with its summary" in store.stage_row(short.arxiv_id, short.version,
                                                     "embed")["detail"]
    store.close()


def test_parsed_papers_go_before_summary_updates() -> None:
    worker = EmbeddingsWorker.__new__(EmbeddingsWorker)
    parsed = PaperParsed.model_construct(arxiv_id="1", version=1)
    summarized = PaperSummarized.model_construct(arxiv_id="1", version=1)
    assert worker.priority(parsed) < worker.priority(summarized)
