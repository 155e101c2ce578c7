"""`radio papers search|related` ask the running embeddings worker over the bus: no model is
loaded by the command (loading it took ~12 s a call)."""

from __future__ import annotations

import asyncio
import time

import pytest
from typer.testing import CliRunner

from radio.cli import app
from radio.cli import search as search_cli
from radio.config import Settings
from radio.store import Store
from tests.support.harness import running_worker
from tests.support.understanding import RAG_SURVEY, VISION, CorpusPaper, insert_papers

runner = CliRunner()


async def test_search_and_related_are_answered_by_the_running_station(
        settings: Settings, corpus_papers: dict[str, CorpusPaper],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RADIO_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RADIO_BUS__EMBEDDED_PORT", str(settings.bus.embedded_port))

    def no_model_here() -> None:
        raise AssertionError("the command loaded the embedding model itself")

    monkeypatch.setattr(search_cli, "_library", no_model_here)
    store = Store(settings.database_path)
    insert_papers(store, list(corpus_papers.values()))
    async with running_worker("embeddings", settings) as worker:
        for paper in corpus_papers.values():
            worker.library.embed_papers([paper.arxiv_id], save=False)
        store.set_stage("1804.07821", corpus_papers["1804.07821"].version, "embed", "done")

        started = time.monotonic()
        reply = await asyncio.to_thread(search_cli.ask_station, "search",
                                        {"text": "retrieval-augmented generation survey",
                                         "k": "3"})
        asked_s = time.monotonic() - started
        assert reply is not None and reply.error is None
        assert reply.hits[0].arxiv_id == RAG_SURVEY and reply.hits[0].title
        print(f"asked the station in {asked_s:.3f} s")
        assert asked_s < 5.0, asked_s  # connect, ask, one query vector: no model to load

        found = await asyncio.to_thread(runner.invoke, app, [
            "papers", "search", "retrieval-augmented generation survey", "-n", "3"])
        assert found.exit_code == 0, found.output
        assert RAG_SURVEY in found.output

        related = await asyncio.to_thread(runner.invoke, app, [
            "papers", "related", "1804.07821v1", "-n", "2"])
        assert related.exit_code == 0, related.output
        assert "novelty" in related.output
        assert sum(a in related.output for a in VISION) >= 1

        missing = await asyncio.to_thread(runner.invoke, app, [
            "papers", "related", "2101.00001"])
        assert missing.exit_code == 2 and "not in the index" in missing.output
    store.close()


def test_without_a_station_the_command_goes_local_quickly(
        tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.settings import make_settings

    cfg = make_settings(tmp_path / "data")  # nothing listens on its broker port
    monkeypatch.setenv("RADIO_DATA_DIR", str(cfg.data_dir))
    monkeypatch.setenv("RADIO_BUS__EMBEDDED_PORT", str(cfg.bus.embedded_port))
    started = time.monotonic()
    assert search_cli.ask_station("search", {"text": "x"}, wait_s=3.0) is None
    assert time.monotonic() - started < 3.0  # refused at once, not waited out
