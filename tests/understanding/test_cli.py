"""`radio papers search|related|rank` as an operator runs them, on an index of the corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from radio.artifacts import DataRoot
from radio.backends.embedder import Embedder
from radio.config import Settings
from radio.store import Store
from radio.understanding.index import Library
from tests.support.procs import radio
from tests.support.settings import make_settings
from tests.support.understanding import RAG_SURVEY, VISION, CorpusPaper, insert_papers


@pytest.fixture
def station(tmp_path: Path, embedder: Embedder, corpus_papers: dict[str, CorpusPaper]
            ) -> Settings:
    cfg = make_settings(tmp_path / "data")
    store = Store(cfg.database_path)
    insert_papers(store, list(corpus_papers.values()))
    store.set_paper_published(["2312.10997", "1804.07821", "2304.02623"],
                              "2026-11-20T08:00:00")
    library = Library(store, embedder, DataRoot(cfg.data_dir).index_dir)
    library.embed_papers(sorted(corpus_papers))
    store.close()
    return cfg


def rows(output: str) -> list[str]:
    """The arXiv ids of a printed table, in order."""
    return [line.split("│")[2].strip() for line in output.splitlines()
            if line.count("│") >= 4 and line.split("│")[1].strip().isdigit()]


@pytest.mark.slow
def test_search_related_and_rank_from_the_command_line(station: Settings) -> None:
    found = radio(["papers", "search", "retrieval-augmented generation survey", "-n", "3"],
                  station, timeout=180)
    assert found.returncode == 0, found.stderr
    assert rows(found.stdout)[0] == RAG_SURVEY

    related = radio(["papers", "related", "1804.07821v1", "-n", "2"], station, timeout=180)
    assert related.returncode == 0, related.stderr
    assert set(rows(related.stdout)) <= VISION and len(rows(related.stdout)) == 2
    assert "novelty" in related.stdout

    ranked = radio(["papers", "rank", "--day", "2026-11-20"], station, timeout=180)
    assert ranked.returncode == 0, ranked.stderr
    assert sorted(rows(ranked.stdout)) == ["1804.07821", "2304.02623", "2312.10997"]


@pytest.mark.slow
def test_bad_input_gets_a_clear_error(station: Settings) -> None:
    bad_id = radio(["papers", "related", "../../etc/passwd"], station, timeout=180)
    assert bad_id.returncode == 2 and "not an arXiv id" in bad_id.stderr
    bad_day = radio(["papers", "rank", "--day", "yesterday"], station, timeout=180)
    assert bad_day.returncode == 2 and "not a date" in bad_day.stderr
