"""The embeddings database: one vector per paper in a faiss index, ids mapped to arXiv ids.

Persisted under DataRoot.index_dir as `papers.faiss` and `papers.json` (arXiv id -> faiss id,
model). Vectors are normalised, so inner product is cosine. Up to `APPROX_ABOVE` papers the
index is exact (IndexIDMap2 over IndexFlatIP); above, a flat query can take longer than 20 ms
on one shared core, so the index becomes an IVF index (IndexIVFFlat, `ivf_lists(n)` lists,
`IVF_NPROBE` probed, with a hash direct map so vectors can be read back and replaced), trained
again when the collection has grown fourfold. scripts/bench_index.py measures both
(docs/understanding.md).
The store is the truth: `rebuild` embeds every paper again from title, abstract and summary.

On top of it: free-text search, related papers, novelty (cosine distance to the nearest
paper published earlier), a week's clusters with labels from their papers' words, and
ranking by an interest profile.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import faiss
import numpy as np

from radio.artifacts import atomic_path, write_atomic
from radio.backends.embedder import Embedder
from radio.store import Store
from radio.understanding.chunks import Chunk, best_passages, load_chunks

log = logging.getLogger(__name__)

# One OpenMP thread: on 2 shared cores more threads made flat search slower (models.md).
faiss.omp_set_num_threads(1)

INDEX_FILE = "papers.faiss"
# scripts/bench_index.py, one thread, 2 shared cores (load 2-12): flat related-paper queries
# took p99 4-9 ms at 20k vectors and 54 ms at 100k clustered vectors; IVF (1264 lists, 32
# probed) p99 4.8 ms at 100k with recall@10 0.976 against flat (on clustered vectors; on
# structureless random ones IVF and HNSW recall is poor, 0.14-0.30). 1M was not measured.
APPROX_ABOVE = 50_000
IVF_NPROBE = 32
EXACT_AMONG = 50_000  # "among" searches on an IVF index: exact up to this many papers
IDS_FILE = "papers.json"
_STOPWORDS_WORDS = """
a an the and or but of in on at to for from by with as is are was were be been being this that
these those it its we our us they their them which who whom whose what when where how why than
then there here also into onto over under about across after before between through during via
using use used based can could may might will would should shall do does did done not no nor
such more most less least many much some any each every other another new show shows shown
propose proposed present presents paper papers approach approaches method methods result
results work works study studies model models task tasks one two three first second large
however while both while well only very further specifically et al e g i ie eg fig figure
table section existing different various several significant significantly without within
achieve achieves achieved provide provides including include includes across
"""
_STOPWORDS = frozenset(_STOPWORDS_WORDS.split())


@dataclass(frozen=True)
class Hit:
    arxiv_id: str
    score: float  # cosine similarity


@dataclass(frozen=True)
class Cluster:
    label: str
    arxiv_ids: list[str]  # most central first


def ivf_lists(n: int) -> int:
    """IVF lists for n vectors: faiss's rule of thumb, 4 sqrt(n)."""
    return max(1, int(4 * math.sqrt(n)))


def train_ivf(vectors: np.ndarray, nums: np.ndarray) -> faiss.IndexIVFFlat:
    """An IVF index over these vectors (cosine), keyed by `nums`, vectors readable back."""
    dim = vectors.shape[1]
    nlist = ivf_lists(len(vectors))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
    sample = np.random.default_rng(0).choice(len(vectors), min(len(vectors), nlist * 40),
                                             replace=False)
    index.train(vectors[np.sort(sample)])
    index.nprobe = IVF_NPROBE
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    index.add_with_ids(vectors, nums)
    return index


def paper_text(title: str, abstract: str, summary: str = "") -> str:
    """What a paper's vector stands for: title, abstract and the short summary."""
    return " ".join(part.strip() for part in (title + ".", abstract, summary) if part.strip())


class PaperIndex:
    """Thread-safe; `save` writes both files atomically."""

    approx_above = APPROX_ABOVE  # papers beyond which the index turns IVF

    def __init__(self, directory: Path, dim: int, model: str = "") -> None:
        self.directory, self.dim, self.model = directory, dim, model
        self._index: faiss.Index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._trained_at = 0  # collection size the IVF index was trained on (0: flat)
        self._ids: dict[str, int] = {}
        self._by_num: dict[int, str] = {}
        self._lock = threading.RLock()

    # --- persistence -------------------------------------------------------------------

    @classmethod
    def load(cls, directory: Path, dim: int, model: str = "") -> PaperIndex:
        """The saved index, or an empty one when none is saved yet."""
        index = cls(directory, dim, model)
        ids_path, faiss_path = directory / IDS_FILE, directory / INDEX_FILE
        if not ids_path.is_file() or not faiss_path.is_file():
            return index
        meta = json.loads(ids_path.read_text())
        loaded = faiss.read_index(str(faiss_path))
        if loaded.d != dim or loaded.ntotal != len(meta["ids"]):
            raise ValueError(f"{directory}: index and id map disagree; run a rebuild")
        if model and meta.get("model") and meta["model"] != model:
            raise ValueError(f"{directory}: built with {meta['model']}, not {model}; rebuild")
        index._index = loaded
        ivf = faiss.downcast_index(loaded)
        if isinstance(ivf, faiss.IndexIVF):
            loaded.this.disown()  # the downcast view now owns the index
            ivf.this.acquire()
            index._index = ivf
            ivf.nprobe = IVF_NPROBE
            index._trained_at = index._index.ntotal
        index._ids = {k: int(v) for k, v in meta["ids"].items()}
        index._by_num = {v: k for k, v in index._ids.items()}
        return index

    def save(self) -> None:
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.directory / INDEX_FILE) as tmp:
                faiss.write_index(self._index, str(tmp))
            write_atomic(self.directory / IDS_FILE,
                         json.dumps({"model": self.model, "dim": self.dim, "ids": self._ids}))

    # --- contents ----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, arxiv_id: object) -> bool:
        return arxiv_id in self._ids

    @property
    def arxiv_ids(self) -> list[str]:
        return list(self._ids)

    def add(self, arxiv_ids: Sequence[str], vectors: np.ndarray) -> None:
        """Insert or replace the vectors of these papers."""
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1, self.dim)
        with self._lock:
            replaced = [self._ids[a] for a in arxiv_ids if a in self._ids]
            if replaced:
                self._index.remove_ids(np.asarray(replaced, dtype=np.int64))
            start = max(self._by_num, default=-1) + 1
            nums = []
            for offset, arxiv_id in enumerate(arxiv_ids):
                num = self._ids.get(arxiv_id, start + offset)
                self._ids[arxiv_id], self._by_num[num] = num, arxiv_id
                nums.append(num)
            self._index.add_with_ids(vectors, np.asarray(nums, dtype=np.int64))
            if len(self._ids) > max(self.approx_above, 4 * self._trained_at):
                self._retrain()

    @property
    def approximate(self) -> bool:
        return self._trained_at > 0

    def _retrain(self) -> None:
        """Move every vector into a freshly trained IVF index (lock held)."""
        nums = np.asarray(sorted(self._by_num), dtype=np.int64)
        vectors = self._index.reconstruct_batch(nums)
        log.info("index: %d papers, training an IVF index (%d lists)", len(nums),
                 ivf_lists(len(nums)))
        self._index = train_ivf(vectors, nums)
        self._trained_at = len(nums)

    def vector(self, arxiv_id: str) -> np.ndarray:
        with self._lock:
            return self._index.reconstruct(self._ids[arxiv_id])

    # --- queries -----------------------------------------------------------------------

    def search(self, vector: np.ndarray, k: int = 10, *, among: Iterable[str] | None = None,
               exclude: Iterable[str] = ()) -> list[Hit]:
        """Nearest papers to a vector, optionally only among some papers."""
        excluded = set(exclude)
        params = None
        query = np.ascontiguousarray(vector, dtype=np.float32).reshape(1, self.dim)
        if among is not None:
            nums = [self._ids[a] for a in among if a in self._ids and a not in excluded]
            if not nums:
                return []
            if self.approximate and len(nums) <= EXACT_AMONG:  # IVF would miss some of them
                return self._exact_among(query[0], nums, k)
            selector = faiss.IDSelectorBatch(np.asarray(nums, dtype=np.int64))
            params = faiss.SearchParametersIVF(sel=selector, nprobe=IVF_NPROBE) \
                if self.approximate else faiss.SearchParameters(sel=selector)
        with self._lock:
            want = min(k + len(excluded), len(self._ids))
            if want == 0:
                return []
            scores, nums = self._index.search(query, want, params=params)
        hits = [Hit(self._by_num[int(n)], float(s)) for s, n in zip(scores[0], nums[0], strict=True)
                if n >= 0 and self._by_num[int(n)] not in excluded]
        return hits[:k]

    def _exact_among(self, query: np.ndarray, nums: list[int], k: int) -> list[Hit]:
        with self._lock:
            vectors = self._index.reconstruct_batch(np.asarray(nums, dtype=np.int64))
        scores = vectors @ query
        order = np.argsort(-scores, kind="stable")[:k]
        return [Hit(self._by_num[nums[i]], float(scores[i])) for i in order]

    def related(self, arxiv_id: str, k: int = 5) -> list[Hit]:
        return self.search(self.vector(arxiv_id), k, exclude=[arxiv_id])

    def novelty(self, arxiv_id: str, earlier: Iterable[str]) -> float | None:
        """Cosine distance to the nearest of `earlier` papers (None if there is none)."""
        hits = self.search(self.vector(arxiv_id), 1, among=earlier, exclude=[arxiv_id])
        return 1.0 - hits[0].score if hits else None

    def rank(self, arxiv_ids: Sequence[str], interests: np.ndarray) -> list[Hit]:
        """Papers ordered by their best cosine to any interest (one interest per row)."""
        present = [a for a in arxiv_ids if a in self._ids]
        if not present or len(interests) == 0:
            return []
        vectors = np.stack([self.vector(a) for a in present])
        scores = (vectors @ np.asarray(interests, dtype=np.float32).T).max(axis=1)
        order = np.argsort(-scores, kind="stable")
        return [Hit(present[i], float(scores[i])) for i in order]

    def clusters(self, arxiv_ids: Sequence[str], texts: dict[str, str],
                 k: int | None = None) -> list[Cluster]:
        """k-means themes among these papers, each labelled by its distinctive words."""
        present = [a for a in arxiv_ids if a in self._ids]
        if not present:
            return []
        if len(present) < 3:
            return [Cluster(label_words([texts.get(a, "") for a in present], []), present)]
        k = k or max(2, min(12, round(math.sqrt(len(present) / 2))))
        vectors = np.stack([self.vector(a) for a in present]).astype(np.float32)
        kmeans = faiss.Kmeans(self.dim, k, niter=25, seed=1234, spherical=True,
                              min_points_per_centroid=1, max_points_per_centroid=10_000)
        kmeans.train(vectors)
        sims = vectors @ kmeans.centroids.T
        labels = sims.argmax(axis=1)
        everything = [texts.get(a, "") for a in present]
        result = []
        for c in range(k):
            members = [i for i in np.argsort(-sims[:, c]) if labels[i] == c]
            if members:
                ids = [present[i] for i in members]
                result.append(Cluster(label_words([texts.get(a, "") for a in ids], everything),
                                      ids))
        return sorted(result, key=lambda cl: -len(cl.arxiv_ids))


def label_words(texts: Sequence[str], background: Sequence[str], n: int = 3) -> str:
    """The words most typical of `texts` compared with `background` (a TF-IDF flavour)."""
    def counts(items: Sequence[str]) -> Counter[str]:
        bag: Counter[str] = Counter()
        for text in items:
            words = [w for w in re.findall(r"[a-z][a-z0-9\-]{2,}", text.lower())
                     if w not in _STOPWORDS]
            bag.update(set(words))  # document frequency: one vote per paper
        return bag

    inside, outside = counts(texts), counts(background)
    total = max(len(background), 1)
    scored = {w: c * math.log((total + 1) / (outside.get(w, 0) + 1)) + c * 0.01
              for w, c in inside.items()}
    best = sorted(scored, key=lambda w: (-scored[w], w))[:n]
    return ", ".join(best) if best else "miscellany"


# --- the index and the store together ---------------------------------------------------


class Library:
    """The index with the store's papers: what workers and the CLI call."""

    def __init__(self, store: Store, embedder: Embedder, directory: Path) -> None:
        self.store, self.embedder = store, embedder
        try:
            self.index = PaperIndex.load(directory, embedder.dim, embedder.name)
        except (ValueError, RuntimeError) as exc:  # damaged, or another model's vectors
            log.warning("%s; rebuilding the index from the store", exc)
            self.index = PaperIndex(directory, embedder.dim, embedder.name)
            self.rebuild()

    def text_of(self, arxiv_id: str) -> str:
        row = self.store.paper(arxiv_id)
        if row is None:
            raise KeyError(f"paper {arxiv_id} is not in the store")
        summary = self.store.summary(arxiv_id)
        short = json.loads(summary[0]).get("summary", {}).get("short", "") if summary else ""
        return paper_text(row["title"], row["abstract"], short)

    def embed_papers(self, arxiv_ids: Sequence[str], *, save: bool = True) -> None:
        if not arxiv_ids:
            return
        vectors = self.embedder.embed([self.text_of(a) for a in arxiv_ids])
        self.index.add(arxiv_ids, vectors)
        if save:
            self.index.save()

    def rebuild(self, batch: int = 256) -> int:
        """Embed every paper in the store again into a fresh index."""
        ids = self.store.paper_ids()
        self.index = PaperIndex(self.index.directory, self.embedder.dim, self.embedder.name)
        for start in range(0, len(ids), batch):
            self.embed_papers(ids[start:start + batch], save=False)
        self.index.save()
        return len(ids)

    def search(self, text: str, k: int = 10) -> list[Hit]:
        return self.index.search(self.embedder.embed([text])[0], k)

    def published(self, arxiv_id: str) -> str | None:
        row = self.store.paper(arxiv_id)
        return row["published"] if row else None

    def novelty(self, arxiv_id: str) -> float | None:
        """Distance to the nearest paper published before this one."""
        when = self.published(arxiv_id)
        if when is None:
            return None
        earlier = self.store.papers_published_before(when, arxiv_id)
        return self.index.novelty(arxiv_id, earlier)

    def papers_between(self, start: date, end: date) -> list[str]:
        return self.store.papers_published_between(start.isoformat(), end.isoformat())

    def rank_day(self, day: date, interests: Sequence[str]) -> list[Hit]:
        ids = self.papers_between(day, day + timedelta(days=1))
        return self.index.rank(ids, self.embedder.embed(list(interests)))

    def week_clusters(self, week_start: date, k: int | None = None) -> list[Cluster]:
        ids = self.papers_between(week_start, week_start + timedelta(days=7))
        texts = {a: self.text_of(a) for a in ids}
        return self.index.clusters(ids, texts, k)

    def passages(self, paper_dir: Path, query: str, k: int = 3) -> list[Chunk]:
        """The `k` chunks of one paper version closest to `query` (saved by the summarizer
        under papers/<id>/v<n>/); [] when the paper has no saved chunks."""
        saved = load_chunks(paper_dir, self.embedder.name)
        if saved is None:
            return []
        chunks, vectors = saved
        return best_passages(chunks, vectors, self.embedder.embed([query])[0], k)
