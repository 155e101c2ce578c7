"""The embeddings database on the real corpus with the real all-MiniLM-L6-v2 model."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from radio.backends.embedder import Embedder
from radio.store import Store
from radio.understanding.index import INDEX_FILE, Library, PaperIndex, label_words
from tests.support.understanding import RAG_SURVEY, VISION, CorpusPaper, insert_papers


@pytest.fixture
def library(store: Store, embedder: Embedder, corpus_papers: dict[str, CorpusPaper],
            tmp_path: Path) -> Library:
    insert_papers(store, list(corpus_papers.values()))
    lib = Library(store, embedder, tmp_path / "index")
    lib.embed_papers(sorted(corpus_papers))
    return lib


def test_search_finds_the_rag_survey_first(library: Library) -> None:
    hits = library.search("retrieval-augmented generation survey", k=5)
    assert hits[0].arxiv_id == RAG_SURVEY
    assert hits[0].score > hits[1].score


def test_related_papers_of_a_two_column_vision_paper_are_vision_papers(library: Library) -> None:
    counting = "1804.07821"  # CVPR-style two-column crowd counting paper
    related = [hit.arxiv_id for hit in library.index.related(counting, k=3)]
    assert counting not in related
    assert set(related) <= VISION, related


@pytest.mark.slow
def test_novelty_is_distance_to_the_nearest_earlier_paper(library: Library) -> None:
    assert library.novelty("1111.2011") is None  # the oldest paper in the corpus
    rag = library.novelty(RAG_SURVEY)
    assert rag is not None and 0.0 < rag < 1.0
    # It is the cosine distance to the closest paper published before it, by hand:
    earlier = [a for a in library.index.arxiv_ids if a < "2312"]
    vectors = np.stack([library.index.vector(a) for a in earlier])
    expected = 1.0 - float((vectors @ library.index.vector(RAG_SURVEY)).max())
    assert rag == pytest.approx(expected, abs=1e-5)


@pytest.mark.slow
def test_index_persists_and_rebuilds_from_the_store(library: Library, store: Store,
                                                   embedder: Embedder, tmp_path: Path) -> None:
    library.index.save()
    reloaded = Library(store, embedder, tmp_path / "index")
    assert sorted(reloaded.index.arxiv_ids) == sorted(library.index.arxiv_ids)
    assert reloaded.search("retrieval-augmented generation survey")[0].arxiv_id == RAG_SURVEY
    (tmp_path / "index" / INDEX_FILE).write_bytes(b"damaged")
    rebuilt = Library(store, embedder, tmp_path / "index")  # rebuilt from the store
    assert len(rebuilt.index) == len(library.index)
    assert rebuilt.index.related("1804.07821", 1) == library.index.related("1804.07821", 1)


@pytest.mark.slow
def test_replacing_a_paper_keeps_one_vector(library: Library) -> None:
    before = len(library.index)
    library.embed_papers([RAG_SURVEY])
    assert len(library.index) == before
    assert library.index.related(RAG_SURVEY, k=len(library.index))  # no stale duplicate
    assert all(h.arxiv_id != RAG_SURVEY for h in library.index.related(RAG_SURVEY, k=50))


@pytest.mark.slow
def test_interest_ranking(library: Library, store: Store) -> None:
    store.set_paper_published(store.paper_ids(), "2026-11-20T09:00:00")
    vision_first = library.rank_day(date(2026, 11, 20), ["computer vision", "image segmentation"])
    assert vision_first[0].arxiv_id in VISION
    rag_first = library.rank_day(date(2026, 11, 20), ["retrieval-augmented generation"])
    assert rag_first[0].arxiv_id == RAG_SURVEY
    assert library.rank_day(date(2026, 11, 21), ["computer vision"]) == []


@pytest.mark.slow
def test_week_clusters_group_the_vision_papers(library: Library, store: Store) -> None:
    store.set_paper_published(store.paper_ids(), "2026-11-18T09:00:00")
    clusters = library.week_clusters(date(2026, 11, 16), k=4)
    members = [a for c in clusters for a in c.arxiv_ids]
    assert sorted(members) == sorted(library.index.arxiv_ids)  # a partition
    home = next(c for c in clusters if "1804.07821" in c.arxiv_ids)
    assert len(set(home.arxiv_ids) & VISION) >= 2
    assert all(c.label for c in clusters)
    # The label is made of words from the cluster's own papers.
    texts = " ".join(library.text_of(a).lower() for a in home.arxiv_ids)
    assert all(word in texts for word in home.label.split(", "))


def test_label_words_prefer_what_is_distinctive() -> None:
    inside = ["crowd counting with dilated convolutions", "vehicle counting in traffic images"]
    outside = [*inside, "language models for retrieval", "language models for summaries"]
    assert label_words(inside, outside, n=1) == "counting"


def test_flat_index_query_at_scale_is_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((20_000, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = PaperIndex(tmp_path, 384)
    ids = [f"2501.{n:05d}" for n in range(len(vectors))]
    index.add(ids, vectors)
    hits = index.related(ids[123], k=5)
    expected = np.argsort(-(vectors @ vectors[123]))[1:6]
    assert [h.arxiv_id for h in hits] == [ids[i] for i in expected]
