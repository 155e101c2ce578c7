"""The paper index turns approximate (IVF) above its size threshold and keeps its contract:
vectors read back, replaced in place, saved and loaded, related papers close to the exact
answer, "among" searches exact."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from radio.understanding.index import PaperIndex

DIM = 32


def _vectors(n: int, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    topics = rng.standard_normal((20, DIM))
    x = topics[rng.integers(0, 20, n)] * 3 + rng.standard_normal((n, DIM))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def _index(tmp_path: Path, n: int, approx_above: int) -> tuple[PaperIndex, np.ndarray]:
    index = PaperIndex(tmp_path / "index", DIM, "test-model")
    index.approx_above = approx_above
    vectors = _vectors(n)
    ids = [f"2501.{i:05d}" for i in range(n)]
    for start in range(0, n, 500):  # grows past the threshold between two adds
        index.add(ids[start:start + 500], vectors[start:start + 500])
    return index, vectors


def test_ivf_above_threshold_keeps_the_contract(tmp_path: Path) -> None:
    exact, vectors = _index(tmp_path / "a", 3000, approx_above=10**9)
    approx, _ = _index(tmp_path / "b", 3000, approx_above=1000)
    assert not exact.approximate and approx.approximate
    assert np.allclose(approx.vector("2501.00042"), vectors[42], atol=1e-6)

    # related papers: most of the exact top 10 (the IVF probes 32 of its lists)
    overlap = []
    for i in range(0, 3000, 97):
        want = {h.arxiv_id for h in exact.related(f"2501.{i:05d}", 10)}
        got = {h.arxiv_id for h in approx.related(f"2501.{i:05d}", 10)}
        assert f"2501.{i:05d}" not in got
        overlap.append(len(want & got) / 10)
    assert np.mean(overlap) >= 0.9, np.mean(overlap)

    # "among" stays exact
    among = [f"2501.{i:05d}" for i in range(0, 3000, 7)]
    query = vectors[5]
    assert [h.arxiv_id for h in approx.search(query, 5, among=among)] == \
        [h.arxiv_id for h in exact.search(query, 5, among=among)]

    # a replaced vector is found in its new place, and only once
    approx.add(["2501.00042"], vectors[7:8])
    hits = approx.search(vectors[7], 3)
    assert {h.arxiv_id for h in hits[:2]} == {"2501.00007", "2501.00042"}
    assert len(approx) == 3000

    approx.save()
    loaded = PaperIndex.load(tmp_path / "b" / "index", DIM, "test-model")
    assert loaded.approximate and len(loaded) == 3000
    assert np.allclose(loaded.vector("2501.00042"), vectors[7], atol=1e-6)
    assert [h.arxiv_id for h in loaded.related("2501.00100", 5)] == \
        [h.arxiv_id for h in approx.related("2501.00100", 5)]
