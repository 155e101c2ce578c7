"""Related-paper queries at scale: flat vs approximate faiss indexes (JSON).

    .venv/bin/python scripts/bench_index.py [--sizes 100000 1000000] [--queries 300]

For each size, vectors of the embedder's dimension (384, all-MiniLM-L6-v2) go into the
station's flat index (exact inner product, what radio/understanding/index.py uses below its
threshold), an IVF index (IndexIVFFlat, nlist = 4 sqrt(n)) at several nprobe values, and an
HNSW index (M 32) at several efSearch values. A "related papers" query is one stored vector
searched for its 10 nearest others, one query at a time on one thread (as the embeddings
worker runs it). Reported per index: p50/p99 query ms, build s, and recall@10 against flat.

Two kinds of vectors: `uniform` (random unit vectors: fine for timing, a worst case for
recall, since nothing clusters) and `clustered` (unit vectors around 2,000 random topics,
closer to real paper embeddings, whose nearest neighbours are near). Prints one JSON object
with the 1-minute load average (the machine is shared; timings move with it).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from radio.understanding.index import IVF_NPROBE, ivf_lists  # noqa: E402

DIM, K = 384, 10
TARGET_P99_MS = 20.0


def unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def vectors(n: int, kind: str, seed: int = 7) -> np.ndarray:
    """n unit vectors, made in blocks so 1M of them stays within memory."""
    rng = np.random.default_rng(seed)
    topics = unit(rng.standard_normal((2000, DIM))) if kind == "clustered" else None
    out = np.empty((n, DIM), np.float32)
    for start in range(0, n, 100_000):
        m = min(100_000, n - start)
        noise = rng.standard_normal((m, DIM)).astype(np.float32)
        if topics is not None:  # a topic plus noise: cosine ~0.5 to its topic's neighbours
            noise = topics[rng.integers(0, len(topics), m)] * 14.0 + noise
        out[start:start + m] = unit(noise)
    return out


def time_queries(search: Callable[[np.ndarray], np.ndarray], queries: np.ndarray
                 ) -> tuple[dict, np.ndarray]:
    ms, found = [], []
    for q in queries:
        t = time.perf_counter()
        found.append(search(q.reshape(1, -1)))
        ms.append((time.perf_counter() - t) * 1000)
    return {"p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3)}, np.stack(found)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    hits = sum(len(set(f) & set(t)) for f, t in zip(found, truth, strict=True))
    return round(hits / truth.size, 4)


def related(index: faiss.Index, picks: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """The query's own paper comes back first: ask one more and drop it."""
    it = iter(picks)

    def search(q: np.ndarray) -> np.ndarray:
        own = next(it)
        _, ids = index.search(q, K + 1)
        return np.array([i for i in ids[0] if i != own][:K])
    return search


def bench(n: int, kind: str, queries: int, hnsw: bool = True) -> dict:
    data = vectors(n, kind)
    picks = np.random.default_rng(1).choice(n, queries, replace=False)
    qs = data[picks]
    out: dict = {"n": n, "vectors": kind}

    t = time.perf_counter()
    flat = faiss.IndexFlatIP(DIM)
    flat.add(data)
    build = time.perf_counter() - t
    timing, truth = time_queries(related(flat, picks), qs)
    out["flat"] = {"build_s": round(build, 1), **timing, "recall_at_10": 1.0}
    del flat

    t = time.perf_counter()
    nlist = ivf_lists(n)
    ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(DIM), DIM, nlist, faiss.METRIC_INNER_PRODUCT)
    train = data[np.random.default_rng(2).choice(n, min(n, nlist * 40), replace=False)]
    ivf.train(train)
    ivf.add(data)
    out["ivf"] = {"nlist": nlist, "build_s": round(time.perf_counter() - t, 1), "nprobe": {}}
    for nprobe in sorted({8, 16, IVF_NPROBE, 64, 128}):
        ivf.nprobe = nprobe
        timing, found = time_queries(related(ivf, picks), qs)
        out["ivf"]["nprobe"][str(nprobe)] = {**timing, "recall_at_10": recall(found, truth)}
    del ivf
    if not hnsw:
        return out

    t = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(DIM, 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 40
    hnsw.add(data)
    out["hnsw"] = {"M": 32, "build_s": round(time.perf_counter() - t, 1), "ef_search": {}}
    for ef in (32, 64, 128):
        hnsw.hnsw.efSearch = ef
        timing, found = time_queries(related(hnsw, picks), qs)
        out["hnsw"]["ef_search"][str(ef)] = {**timing, "recall_at_10": recall(found, truth)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--kinds", nargs="+", default=["uniform", "clustered"])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1, help="faiss OpenMP threads "
                        "(the station uses 1).")
    parser.add_argument("--hnsw-max", type=int, default=1_000_000,
                        help="Skip HNSW above this size (its build is slow on one core).")
    args = parser.parse_args()
    faiss.omp_set_num_threads(args.threads)
    started = time.perf_counter()
    runs = []
    for n in args.sizes:
        for kind in args.kinds:
            runs.append(bench(n, kind, args.queries, n <= args.hnsw_max))
            print(json.dumps(runs[-1]), file=sys.stderr, flush=True)  # kept if cut short
    print(json.dumps({"dim": DIM, "k": K, "queries": args.queries, "threads": args.threads,
                      "target_p99_ms": TARGET_P99_MS, "station_nprobe": IVF_NPROBE,
                      "load_avg_1m": round(os.getloadavg()[0], 2), "runs": runs,
                      "wall_s": round(time.perf_counter() - started, 1)}, indent=1))


if __name__ == "__main__":
    main()
