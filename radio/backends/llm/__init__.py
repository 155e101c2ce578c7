"""LLM backends behind one protocol: in-process llama.cpp or an OpenAI-compatible server.

`LLM.chat` takes chat messages and per-task sampling settings and returns the reply text;
with a JSON schema the output is constrained to it (a grammar in llama.cpp, `response_format`
on a server). `chat_json` parses and validates that reply. Every failure (server down,
timeout, output that still does not fit the schema after retries) is an `LLMError`.

One module per part: `base` (the protocol, the error, `chat_json`), `registry` (backends by
name), one module per backend with its settings class (`llamacpp`, `openai_server`),
`shared` (one model per process, calls by priority), `shipped` (the models from PyPI).
Workers take their model with `acquire_llm`; scripts and tests may `load_llm` their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from radio.backends.llm.base import LLM, BackendSettings, LLMError, chat_json
from radio.backends.llm.registry import BACKENDS, backend_of
from radio.backends.llm.shared import (
    BACKGROUND,
    ON_AIR,
    PriorityLock,
    SharedLLM,
    acquire_llm,
    keep_warm,
    release_llm,
)
from radio.backends.llm.shipped import (
    SHIPPED_MODELS,
    cache_dir,
    default_model_path,
    tiny_model_path,
)

if TYPE_CHECKING:
    from radio.config import LLMSettings

__all__ = [
    "BACKENDS", "BACKGROUND", "LLM", "ON_AIR", "SHIPPED_MODELS", "BackendSettings",
    "LLMError", "PriorityLock", "SharedLLM", "acquire_llm", "cache_dir", "chat_json",
    "default_model_path", "keep_warm", "load_llm", "release_llm", "tiny_model_path",
]


def load_llm(settings: LLMSettings) -> LLM:
    """A model of its own for the caller (not shared): close it when done."""
    return backend_of(settings).load(settings)
