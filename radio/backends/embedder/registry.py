"""The embedder backends by name (`embedder.backend`). Adding one: a module beside this file
with the `Backend` contract below and a settings class, one line in BACKENDS, and its
settings class among `EmbedderSettings`' bases in radio/config.py."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from radio.backends.embedder.base import Embedder

BACKENDS: dict[str, str] = {
    "onnx": "radio.backends.embedder.onnx",  # the same model without torch: the default
    "sentence-transformers": "radio.backends.embedder.sbert",
}


class Backend(Protocol):
    """What a backend module provides."""

    def load(self, settings: Any) -> Embedder:
        """A ready embedder; raise EmbedderError with the reason if it cannot be."""
        ...

    def share_key(self, settings: Any) -> tuple:
        """What makes two loads the same model in memory (one per process)."""
        ...


def backend(name: str) -> Backend:
    if name not in BACKENDS:
        raise ValueError(f"unknown embedder backend {name!r} (known: {', '.join(BACKENDS)})")
    return cast(Backend, importlib.import_module(BACKENDS[name]))
