"""Any server that speaks /v1/chat/completions: llama.cpp's server, vLLM, Ollama, OpenAI.

The `openai` client owns the timeouts and the retries (connection errors, timeouts, 408,
409, 429 and 5xx, with exponential back-off and the server's Retry-After). `cache_prompt`
asks llama.cpp's server to keep the KV cache of the shared prefix (a show's running
chat), which is where a GPU server saves most of its prompt time.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from pydantic import Field, SecretStr

from radio.backends.llm.base import BackendSettings, LLMError

if TYPE_CHECKING:
    import openai

    from radio.config import SamplingSettings

log = logging.getLogger(__name__)

SHARED = False  # nothing is loaded here, and the server queues its own requests


class OpenAISettings(BackendSettings):
    base_url: str = Field("http://127.0.0.1:8080/v1", description="OpenAI-compatible server.")
    model: str = Field("default", description="Model name sent to the server.")
    api_key: SecretStr | None = Field(None, description="API key (environment only).")
    timeout_s: float = Field(300.0, description="Timeout of one request to the server.")
    retries: int = Field(3, description="Retries of a failed request.")
    cache_prompt: bool = Field(True, description="Ask the server to reuse the KV cache of "
                               "the shared prefix (llama.cpp's server); off for servers that "
                               "refuse unknown fields.")


class OpenAIChat:
    def __init__(self, settings: OpenAISettings) -> None:
        import openai  # only when this backend is used

        self.name = settings.model
        self.n_ctx = settings.n_ctx
        self._base_url = settings.base_url.rstrip("/")
        self._tries = settings.retries + 1
        self._cache_prompt = settings.cache_prompt
        self._schema_style = "json_schema"  # OpenAI, vLLM, llama.cpp's C++ server, Ollama
        key = settings.api_key.get_secret_value() if settings.api_key else "none"
        self._client = openai.OpenAI(
            base_url=self._base_url, api_key=key, max_retries=settings.retries,
            timeout=openai.Timeout(settings.timeout_s, connect=10.0))

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1  # servers differ in tokenizers; a safe rough estimate

    def chat(self, messages: list[dict[str, str]], *, sampling: SamplingSettings,
             schema: dict | None = None) -> str:
        # Not in OpenAI's API, but understood by llama.cpp, vLLM and Ollama's OpenAI API.
        extra: dict[str, Any] = {"min_p": sampling.min_p,
                                 "repeat_penalty": sampling.repeat_penalty,
                                 "mirostat_mode": sampling.mirostat_mode}
        if self._cache_prompt:
            extra["cache_prompt"] = True
        request: dict[str, Any] = {
            "model": self.name, "messages": messages, "temperature": sampling.temperature,
            "top_p": sampling.top_p, "max_tokens": sampling.max_tokens, "extra_body": extra}
        if sampling.seed is not None:
            request["seed"] = sampling.seed
        if schema is None:
            return self._complete(request)
        request["response_format"] = self._response_format(schema)
        try:
            return self._complete(request)
        except _Rejected as exc:
            if self._schema_style == "json_object" or "response_format" not in exc.detail:
                raise
        # llama-cpp-python's server knows only {"type": "json_object", "schema": ...}.
        log.info("%s: server refused json_schema; using json_object", self._base_url)
        self._schema_style = "json_object"
        request["response_format"] = self._response_format(schema)
        return self._complete(request)

    def _response_format(self, schema: dict) -> dict[str, Any]:
        if self._schema_style == "json_object":
            return {"type": "json_object", "schema": schema}
        return {"type": "json_schema",
                "json_schema": {"name": "result", "schema": schema, "strict": True}}

    def _complete(self, request: dict[str, Any]) -> str:
        import openai

        where = f"LLM server at {self._base_url}"
        try:
            completion = self._client.chat.completions.create(**request)
        except openai.APITimeoutError as exc:
            raise LLMError(f"{where} timed out after {self._tries} tries") from exc
        except openai.APIConnectionError as exc:
            raise LLMError(f"{where}: cannot connect after {self._tries} tries "
                           f"({exc.__cause__ or exc})") from exc
        except openai.APIStatusError as exc:
            raise _failure(where, exc, self._tries) from exc
        try:
            return completion.choices[0].message.content or ""
        except (AttributeError, IndexError, TypeError) as exc:
            raise LLMError(f"{where}: unexpected reply {str(completion)[:300]}") from exc

    def close(self) -> None:
        self._client.close()


def _failure(where: str, exc: openai.APIStatusError, tries: int) -> LLMError:
    """A rejected request (4xx: asking again will not help) or a server that kept failing."""
    status, text = exc.status_code, exc.response.text
    # llama-cpp-python's server answers a request it cannot parse with a 500.
    if (400 <= status < 500 and status != 429) or "validation error" in text:
        return _Rejected(f"{where}: HTTP {status}: {text[:300]}", text)
    return LLMError(f"{where} failed after {tries} tries: HTTP {status}: {text[:200]}")


class _Rejected(LLMError):
    """The server refused the request itself."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


def load(settings: OpenAISettings) -> OpenAIChat:
    return OpenAIChat(settings)


def share_key(settings: OpenAISettings) -> tuple:
    return (settings.base_url, settings.model)
