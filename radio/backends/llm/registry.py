"""The LLM backends by name (`llm.backend`). Adding one: a module beside this file with the
`Backend` contract below and a settings class, one line in BACKENDS, and its settings class
among `LLMSettings`' bases in radio/config.py (so its keys are `[llm]` keys)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:
    from radio.backends.llm.base import LLM

BACKENDS: dict[str, str] = {
    "llamacpp": "radio.backends.llm.llamacpp",
    "openai": "radio.backends.llm.openai_server",
}


class Backend(Protocol):
    """What a backend module provides."""

    SHARED: bool  # one loaded copy per process, shared by its workers (acquire_llm)

    def load(self, settings: Any) -> LLM:
        """A ready model or client; raise LLMError with the reason if it cannot be."""
        ...

    def share_key(self, settings: Any) -> tuple:
        """What makes two loads the same model in memory (used when SHARED)."""
        ...


def backend(name: str) -> Backend:
    if name not in BACKENDS:
        raise ValueError(f"unknown LLM backend {name!r} (known: {', '.join(BACKENDS)})")
    return cast(Backend, importlib.import_module(BACKENDS[name]))


def backend_of(settings: Any) -> Backend:
    """The backend module that `settings.backend` names."""
    return backend(settings.backend)
