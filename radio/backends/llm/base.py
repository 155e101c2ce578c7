"""What every LLM backend is: the `LLM` protocol, its error, its settings base, `chat_json`.

Backend modules import nothing from `radio.config` at run time: config.py builds
`LLMSettings` from their settings classes, so the arrow points one way.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Protocol

import jsonschema
from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from radio.config import SamplingSettings

log = logging.getLogger("radio.backends.llm")


class LLMError(RuntimeError):
    """The model could not answer: server down, timeout, or bad output after retries."""


class BackendSettings(BaseModel):
    """Settings every backend reads; each backend's own class adds its keys to these."""

    model_config = ConfigDict(extra="forbid")

    n_ctx: int = Field(8192, description="Context window in tokens.")


class LLM(Protocol):
    """Everything callers use of a model; `SharedLLM` and every backend implement it."""

    name: str  # recorded with each summary and show
    n_ctx: int  # the context window, for prompt budgets

    def count_tokens(self, text: str) -> int: ...

    def chat(self, messages: list[dict[str, str]], *, sampling: SamplingSettings,
             schema: dict | None = None) -> str:
        """The reply text; with a JSON schema, constrained to it."""
        ...

    def close(self) -> None:
        """Free what the backend holds (a model, a connection pool)."""
        ...


def chat_json(llm: LLM, messages: list[dict[str, str]], *, sampling: SamplingSettings,
              schema: dict, attempts: int = 3) -> dict:
    """Ask for JSON that fits `schema`; retry on malformed output, then raise LLMError."""
    problem = ""
    for attempt in range(1, attempts + 1):
        if attempt > 1 and sampling.seed is not None:  # the same seed would say it again
            sampling = sampling.model_copy(update={"seed": sampling.seed + 1})
        reply = llm.chat(messages, sampling=sampling, schema=schema)
        try:
            data = json.loads(reply, strict=False)  # grammars let raw newlines into strings
            jsonschema.validate(data, schema)
        except (json.JSONDecodeError, jsonschema.ValidationError) as exc:
            problem = f"{type(exc).__name__}: {str(exc)[:300]}"
            log.warning("%s: output not valid JSON for the schema (attempt %d): %s",
                        llm.name, attempt, problem)
            continue
        if isinstance(data, dict):
            return data
        problem = "top-level JSON value is not an object"
    raise LLMError(f"{llm.name}: no valid JSON after {attempts} attempts ({problem})")
