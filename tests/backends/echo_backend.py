"""A test LLM backend, registered by the tests as any backend is (one line in BACKENDS):
it answers with the last message, or with a JSON object that fits the schema's first
required string field, and counts how often it was loaded and closed."""

from __future__ import annotations

import json
from typing import Any

from radio.backends.llm.base import BackendSettings

SHARED = True
loads: list[str] = []
closed: list[str] = []


class EchoChat:
    def __init__(self, settings: BackendSettings) -> None:
        self.name, self.n_ctx = "echo", settings.n_ctx
        loads.append(self.name)

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def chat(self, messages: list[dict[str, str]], *, sampling: Any,
             schema: dict | None = None) -> str:
        said = messages[-1]["content"]
        if schema is None:
            return said
        return json.dumps({schema["required"][0]: said})

    def close(self) -> None:
        closed.append(self.name)


def load(settings: BackendSettings) -> EchoChat:
    return EchoChat(settings)


def share_key(settings: BackendSettings) -> tuple:
    return (settings.n_ctx,)
