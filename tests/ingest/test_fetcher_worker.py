"""The fetcher worker on a real (embedded) broker, fetching from the arXiv stand-in."""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import UTC, datetime
from pathlib import Path

from radio.artifacts import DataRoot
from radio.config import Settings
from radio.ingest.ingestor import Ingestor
from radio.messages import Command, ErrorReport, PaperFetched, topic_of
from radio.store import Store
from radio.workers.fetcher import FetcherWorker
from tests.support.arxiv_standin import NONEXCLUSIVE, ArxivStandIn
from tests.support.harness import BusProbe, running_worker
from tests.support.settings import FAST_FETCH

CC_BY = "http://creativecommons.org/licenses/by/4.0/"
RAG = "Retrieval-Augmented Generation for Large Language Models: A Survey"


def _manifest(corpus: Path) -> dict[str, dict[str, str]]:
    with (corpus / "MANIFEST.tsv").open(newline="") as handle:
        return {row["arxiv_id"]: row for row in csv.DictReader(handle, delimiter="\t")
                if row["file"].startswith("pdf/")}


def _on(settings: Settings, standin: ArxivStandIn, **fetcher: object) -> Settings:
    """Settings on the stand-in, following cs.CL only, polling every `poll_interval_s`."""
    cfg = standin.configure(settings, **{**FAST_FETCH, "poll_interval_s": 3600.0, **fetcher})
    return cfg.model_copy(update={"categories": ["cs.CL"]})


async def test_poll_publishes_papers_fetched_for_corpus_papers(
        settings: Settings, standin: ArxivStandIn, corpus: Path) -> None:
    standin.listing("cs.CL", ["2312.10997v5", "2304.02623v1"])
    cfg = _on(settings, standin)
    async with BusProbe(cfg, [PaperFetched.TOPIC]) as probe, running_worker(FetcherWorker, cfg):
        await probe.expect(PaperFetched, count=2, timeout=60)
    messages = {m.arxiv_id: m for m in probe.messages(PaperFetched)}
    rag, manifest = messages["2312.10997"], _manifest(corpus)
    assert (rag.title, rag.version, rag.is_revision) == (RAG, 5, False)
    assert (rag.source, rag.announce_type, rag.licence_url) == ("rss", "new", NONEXCLUSIVE)
    # Dates come from the API (its entry, built from the stamp: 27 Mar 2024), not the feed.
    assert rag.primary_category == "cs.CL"
    assert rag.published == datetime(2024, 3, 27, tzinfo=UTC)
    assert rag.abstract.startswith("Large Language Models (LLMs) showcase impressive")
    for arxiv_id, message in messages.items():
        row = manifest[f"{arxiv_id}v{message.version}"]
        assert message.pdf.sha256 == row["sha256"]
        assert message.pdf.path == f"papers/{arxiv_id}/{arxiv_id}v{message.version}.pdf"
        assert DataRoot(cfg.data_dir).verify(message.pdf).is_file()
    store = Store(cfg.database_path)
    stages = [r for r in store.all_stages() if r["stage"] == "fetch"]
    assert sorted((row["arxiv_id"], row["status"]) for row in stages) == [("2304.02623", "done"),
                                                    ("2312.10997", "done")]
    paper = store.paper("2312.10997")
    assert (paper["title"], paper["licence_url"], paper["latest_version"]) == \
        (RAG, NONEXCLUSIVE, 5)
    assert json.loads(paper["authors"])[:2] == ["Yunfan Gao", "Yun Xiong"]
    assert store.count_artifacts("pdf") == 2
    store.close()


async def test_licence_from_rss_or_else_from_oai(settings: Settings, standin: ArxivStandIn
                                                 ) -> None:
    # The licences here are set by the test to see them carried through, not facts about
    # these papers (the corpus README: per-paper licences are unverified).
    standin.listing("cs.CL", ["2304.02623v1"], licence=CC_BY)
    standin.listing("cs.CL", ["2103.15348v2"], licence=None)
    cfg = _on(settings, standin)
    async with BusProbe(cfg, [PaperFetched.TOPIC]) as probe, running_worker(FetcherWorker, cfg):
        await probe.expect(PaperFetched, count=2, timeout=60)
    licences = {m.arxiv_id: m.licence_url for m in probe.messages(PaperFetched)}
    assert licences == {"2304.02623": CC_BY, "2103.15348": None}
    oai = [r.query["identifier"] for r in standin.requests if r.path == "/oai"]
    assert oai == ["oai:arXiv.org:2103.15348"]  # asked only where the feed had none
    store = Store(cfg.database_path)
    row = store.paper("2304.02623")
    assert row["licence_url"] == CC_BY
    store.close()


async def test_bad_download_is_failed_reported_and_the_loop_goes_on(
        settings: Settings, standin: ArxivStandIn) -> None:
    standin.listing("cs.CL", ["2305.03393v1", "2304.02623v1", "2103.15348v2"])
    standin.fault("/pdf/2304.02623", "truncated")
    cfg = _on(settings, standin)
    async with BusProbe(cfg, [PaperFetched.TOPIC, ErrorReport.TOPIC]) as probe, \
            running_worker(FetcherWorker, cfg):
        await probe.expect(PaperFetched, count=2, timeout=60)
        error = await probe.expect(ErrorReport, timeout=30, where=lambda e: e.worker == "fetcher")
    assert {m.arxiv_id for m in probe.messages(PaperFetched)} == {"2305.03393", "2103.15348"}
    assert error.key == "2304.02623v1" and "truncated PDF" in error.reason
    store = Store(cfg.database_path)
    row = store.stage_row("2304.02623", 1, "fetch")
    assert row["status"] == "failed" and "truncated PDF" in row["detail"]
    assert store.versions("2304.02623") == []
    store.close()


async def test_fetch_command_fetches_ids_now(settings: Settings, standin: ArxivStandIn) -> None:
    cfg = _on(settings, standin)
    standin.listing("cs.CL", [])  # nothing announced today
    async with BusProbe(cfg, [PaperFetched.TOPIC, ErrorReport.TOPIC]) as probe, \
            running_worker(FetcherWorker, cfg):
        command = Command(worker="fetcher", action="fetch",
                          args={"ids": "1111.2011v2,0000.0000"})
        await probe.publish_raw(topic_of(Command, worker="fetcher"), command.to_json())
        fetched = await probe.expect(PaperFetched, timeout=60)
        error = await probe.expect(ErrorReport, timeout=30, where=lambda e: e.worker == "fetcher")
    assert (fetched.arxiv_id, fetched.version, fetched.source) == ("1111.2011", 2, "api")
    assert fetched.primary_category == "cond-mat.str-el"  # from the recorded API entry
    assert fetched.authors == ["James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic"]
    assert error.key == "0000.0000" and "arXiv has no paper 0000.0000" in error.reason


async def test_dedup_revisions_and_restart(settings: Settings, standin: ArxivStandIn) -> None:
    cfg = _on(settings, standin)
    store = Store(cfg.database_path)
    # We aired 2312.10997 as v4 earlier (its v4 PDF is not in the corpus: rows only).
    with store.transaction() as t:
        t.upsert_paper("2312.10997", 4, title=RAG, authors=[], abstract="", categories=[],
                       source="rss")
        t.record_version("2312.10997", 4, None, None)
    standin.listing("cs.CL", ["2312.10997v5", "2304.02623v1"], announce_type="replace")
    standin.listing("cs.CL", ["2103.15348v2"])
    standin.listing("cs.LG", ["2103.15348v2"], announce_type="cross")  # the same paper again
    cfg = cfg.model_copy(update={"categories": ["cs.CL", "cs.LG"]})
    async with BusProbe(cfg, [PaperFetched.TOPIC]) as probe:
        async with running_worker(FetcherWorker, cfg):
            await probe.expect(PaperFetched, count=2, timeout=60)
        first = {m.arxiv_id: m for m in probe.messages(PaperFetched)}
        assert set(first) == {"2312.10997", "2103.15348"}  # 2304.02623 replaced: not news
        assert first["2312.10997"].is_revision and not first["2103.15348"].is_revision
        pdfs = len(standin.times("/pdf/"))
        assert pdfs == 2
        # A restart polls again and finds nothing new: no download, no message.
        polls = len(standin.times("/rss/"))
        async with running_worker(FetcherWorker, cfg):
            while len(standin.times("/rss/")) == polls:
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
    assert len(standin.times("/pdf/")) == pdfs
    assert len(probe.messages(PaperFetched)) == 2
    versions = store.versions("2312.10997")
    assert [row["version"] for row in versions] == [4, 5]
    assert store.latest_version("2312.10997") == 5
    store.close()


async def test_recorded_but_unpublished_papers_are_published_at_start(
        settings: Settings, standin: ArxivStandIn) -> None:
    cfg = _on(settings, standin)
    standin.listing("cs.CL", [])
    store = Store(cfg.database_path)
    ingestor = Ingestor(cfg, store, DataRoot(cfg.data_dir))
    [outcome] = await ingestor.fetch_ids(["2304.02623v1"])  # a crash came before publishing
    await ingestor.aclose()
    assert outcome.message is not None
    assert store.stage("2304.02623", 1, "fetch") == "pending"
    standin.clear_log()
    async with BusProbe(cfg, [PaperFetched.TOPIC]) as probe, running_worker(FetcherWorker, cfg):
        message = await probe.expect(PaperFetched, timeout=30)
    assert message.id == outcome.message.id
    assert standin.times("/pdf/") == []
    assert store.stage("2304.02623", 1, "fetch") == "done"
    store.close()


async def test_daily_cap(offline_settings: Settings, standin: ArxivStandIn) -> None:
    standin.listing("cs.CL", ["2305.03393v1", "2103.15348v2", "2304.02623v1"])
    cfg = offline_settings.model_copy(update={
        "categories": ["cs.CL"],
        "fetcher": offline_settings.fetcher.model_copy(update={"max_per_day": 2})})
    store = Store(cfg.database_path)
    ingestor = Ingestor(cfg, store, DataRoot(cfg.data_dir))
    try:
        first = await ingestor.poll()
        second = await ingestor.poll()  # the same day: the cap is reached
    finally:
        await ingestor.aclose()
    assert [o.key for o in first if o.message] == ["2305.03393v1", "2103.15348v2"]
    assert second == []
    assert len(standin.times("/pdf/")) == 2
    assert ingestor.fetched_today() == 2
    store.close()
