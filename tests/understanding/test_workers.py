"""The summarizer and embeddings workers on the bus, with real models and corpus papers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from radio.artifacts import DataRoot, write_atomic
from radio.backends.llm import tiny_model_path
from radio.config import LLMSettings, SamplingSettings, Settings
from radio.messages import ErrorReport, PaperEmbedded, PaperParsed, PaperSummarized
from radio.store import Store
from radio.understanding.index import Library
from radio.understanding.summarize import SummaryRecord
from tests.support.harness import BusProbe, running_worker
from tests.support.understanding import VISION, CorpusPaper, insert_papers

TOPICS = ["papers/#", "errors"]


def parsed_message(data: DataRoot, paper: CorpusPaper) -> PaperParsed:
    """What the pdf worker leaves behind: text.txt and sections.json, and its message."""
    out = data.paper_dir(paper.arxiv_id) / f"v{paper.version}"
    write_atomic(out / "text.txt", paper.text)
    write_atomic(out / "sections.json", json.dumps(paper.sections))
    shutil.copyfile(Path(__file__).parent / "conftest.py", out / "title_card.png")  # a file
    return PaperParsed(arxiv_id=paper.arxiv_id, version=paper.version,
                       text=data.artifact(out / "text.txt"), sections=[], pages=1,
                       page_images=[], title_card=data.artifact(out / "title_card.png"))


@pytest.mark.slow
async def test_summarizer_worker_summarizes_stores_and_is_idempotent(
        settings: Settings, corpus_papers: dict[str, CorpusPaper]) -> None:
    # Structure only: the tiny model's words are nonsense, the grounding check drops them.
    settings = settings.model_copy(update={"llm": LLMSettings(
        model_path=tiny_model_path(), n_ctx=4096, n_threads=1, summary_passages=2,
        summary_regenerations=0, summary=SamplingSettings(temperature=0.2, max_tokens=900,
                                                          seed=3))})
    paper = corpus_papers["2305.03393"]  # one page
    data = DataRoot(settings.data_dir)
    store = Store(settings.database_path)
    insert_papers(store, [paper])
    message = parsed_message(data, paper)
    async with BusProbe(settings, TOPICS) as probe, \
            running_worker("summarizer", settings) as worker:
        await probe.publish(message)
        done = await probe.expect(PaperSummarized, timeout=600)
        record = SummaryRecord.model_validate_json(data.verify(done.summary).read_bytes())
        assert record.arxiv_id == paper.arxiv_id and done.hook == record.summary.hook
        row = store.summary(paper.arxiv_id)
        assert row["grounding_rate"] == done.grounding_rate == record.grounding.rate
        assert row["model"] == "SmolLM2-135M-Instruct.Q4_1.gguf"
        assert store.stage(paper.arxiv_id, paper.version, "summary") == "done"
        chunk_dir = data.resolve(done.summary).parent
        assert (chunk_dir / "chunks.json").is_file() and (chunk_dir / "chunks.npy").is_file()
        # Handled again (a redelivery under another id): no new generation, same message.
        calls = []
        worker.summarizer.summarize = lambda *a, **k: calls.append(a)  # type: ignore[method-assign]
        again = worker.process(message)
        assert calls == [] and again.id == done.id
    store.close()


@pytest.mark.usefixtures("database_url")
async def test_summarizer_rejects_a_paper_missing_from_the_store(
        settings: Settings, corpus_papers: dict[str, CorpusPaper]) -> None:
    settings = settings.model_copy(update={"llm": LLMSettings(model_path=tiny_model_path(),
                                                              n_ctx=512)})
    message = parsed_message(DataRoot(settings.data_dir), corpus_papers["2305.03393"])
    async with BusProbe(settings, TOPICS) as probe, running_worker("summarizer", settings):
        await probe.publish(message)
        error = await probe.expect(ErrorReport, timeout=120)
        assert error.key == "2305.03393" and "not in the store" in error.reason
        assert probe.messages(PaperSummarized) == []


async def test_embeddings_worker_indexes_relates_and_scores_novelty(
        settings: Settings, corpus_papers: dict[str, CorpusPaper]) -> None:
    data = DataRoot(settings.data_dir)
    store = Store(settings.database_path)
    insert_papers(store, list(corpus_papers.values()))
    order = ["1804.07821", "1912.10667", "2203.06947", "2312.10997"]  # by publication
    summary = data.root / "summary.json"
    write_atomic(summary, "{}")
    for arxiv_id in order:  # the short summary joins title and abstract in the vector
        store.record_summary(arxiv_id, corpus_papers[arxiv_id].version,
                             json.dumps({"summary": {"short": corpus_papers[arxiv_id].title}}),
                             1.0, "m")
    async with BusProbe(settings, TOPICS) as probe, running_worker("embeddings", settings):
        for arxiv_id in order:
            await probe.publish(PaperSummarized(
                arxiv_id=arxiv_id, version=corpus_papers[arxiv_id].version,
                summary=data.artifact(summary), hook="h", grounding_rate=1.0))
            await probe.expect(PaperEmbedded, timeout=120, where=lambda m, a=arxiv_id:
                               m.arxiv_id == a)
        embedded = {m.arxiv_id: m for m in probe.messages(PaperEmbedded)}
        assert embedded["1804.07821"].novelty is None  # nothing earlier in the index
        assert 0 < embedded["1912.10667"].novelty < 1
        assert set(embedded["2203.06947"].related[:2]) <= VISION
        assert embedded["2312.10997"].related[0] not in {"2312.10997"}
        assert store.stage("2312.10997", 5, "embed") == "done"
    # The index was saved under the data root and loads in another process's Library.
    from radio.backends.embedder import load_embedder

    library = Library(store, load_embedder(settings.embedder), data.index_dir)
    assert sorted(library.index.arxiv_ids) == sorted(order)
    store.close()
