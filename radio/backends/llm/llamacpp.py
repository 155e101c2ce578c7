"""In-process llama.cpp (llama-cpp-python): a GGUF file, or a model shipped on PyPI.

On a CUDA build every layer goes to the GPU (`n_gpu_layers`, -1: all) unless
`device = "cpu"`; on a CPU-only build one log line says so and the model runs on the CPU.
Loaded models are shared within a process (`SHARED`): see `radio.backends.llm.shared`.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import os
import threading
import time
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from pydantic import Field

from radio.backends.device import DEVICE_HELP, Device, llama_cpp_gpu, resolve
from radio.backends.llm.base import BackendSettings, LLMError
from radio.backends.llm.shipped import default_model_path

if TYPE_CHECKING:
    from radio.config import SamplingSettings

log = logging.getLogger(__name__)
llama_log = logging.getLogger("llama_cpp")

SHARED = True  # one loaded copy per process, its calls queued by priority

# llama.cpp's OpenMP threads spin at each barrier: with the cores shared (the other workers
# run beside it) a spinning thread holds the core its partner waits for. On 2 cores, the
# 1.5B model generated 13.3 tokens/s on 2 threads with the cores free, 7.4 on 1, but 1.0 on
# 2 beside one busy process; with a short spin (set before libgomp loads) 12.6 free and
# 6.9 busy. So: every core, short spins (docs/understanding.md).
os.environ.setdefault("GOMP_SPINCOUNT", "1000")


class LlamaCppSettings(BackendSettings):
    model_path: Path | None = Field(
        None, description="GGUF file; default: `shipped_model`, assembled from PyPI.")
    shipped_model: Literal["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"] = Field(
        "qwen2.5-coder-1.5b", description="The model from PyPI used without a model_path: "
        "1.5b writes faithful facts and dialogue; 0.5b is about 2.5x faster and worse.")
    n_threads: int | None = Field(None, description="CPU threads for llama.cpp's "
                                  "generation; default: every core this process may use "
                                  "(one for a model under 256 MB).")
    device: Device = Field("auto", description="Where llama.cpp runs. " + DEVICE_HELP)
    n_gpu_layers: int = Field(-1, description="Layers offloaded when it runs on the GPU "
                              "(-1: all); on the CPU none.")
    kv_cache: Literal["f16", "q8_0"] = Field(
        "f16", description="Type of the KV cache. q8_0 holds the 1.5B model's 8,192 tokens "
        "in 114 MB less, but its prompts were slower on 2 cores: 76 against 97 tokens/s at "
        "1,100 tokens, 52 against 83 at 2,600.")
    n_batch: int = Field(256, ge=32, description="Prompt tokens evaluated at once. With "
                         "flash attention (always on) the 1.5B model on 2 cores: 256 held "
                         "1,445 MB after a 3,000-token prompt, 512 1,481 MB, at the same "
                         "speed (65-74 tokens/s); the old 512 without flash attention 1,547 "
                         "MB at 61-64. On a GPU, 512 or more is faster.")
    use_mmap: bool = Field(False, description="Map the model file instead of reading it. "
                           "On the CPU llama.cpp repacks the weights into memory of its own, "
                           "so a mapped file is held twice: 2.0 GB resident against 1.4 GB "
                           "read for the 1.5B model, at the same speed.")


SMALL_MODEL_BYTES = 256 * 2**20  # a smaller model's token is too little work to split: the
# 135M test model made 32 tokens/s on 1 thread and 23 on 2 (the 1.5B: 7.4 against 12.6)


def threads_for(path: Path, settings: LlamaCppSettings) -> int:
    """The setting; else every core this process may run on (a container's CPU set, not
    the host's), or one for a small model."""
    if settings.n_threads:
        return settings.n_threads
    return len(os.sched_getaffinity(0)) if path.stat().st_size >= SMALL_MODEL_BYTES else 1


def attention_args(settings: LlamaCppSettings) -> dict[str, Any]:
    """llama.cpp's arguments for attention: flash attention (it never materializes the
    prompt's attention matrix: 66 MB less, and no slower), a KV cache of the type asked
    for (ggml's type 8 is q8_0) and the prompt batch."""
    cache = {"type_k": 8, "type_v": 8} if settings.kv_cache == "q8_0" else {}
    return {"flash_attn": True, "n_batch": settings.n_batch, "n_ubatch": settings.n_batch,
            **cache}


def gpu_layers(settings: LlamaCppSettings) -> int:
    """Layers to offload: the setting on a GPU build, none on the CPU."""
    device = resolve(settings.device, "llama.cpp", llama_cpp_gpu)
    return settings.n_gpu_layers if device == "cuda" else 0


def share_key(settings: LlamaCppSettings) -> tuple:
    """What makes two loads the same model in memory."""
    path = settings.model_path or settings.shipped_model
    return (str(path), settings.n_ctx, settings.n_threads, gpu_layers(settings),
            settings.use_mmap, settings.kv_cache, settings.n_batch)


class LlamaCppChat:
    """llama-cpp-python in this process; one call at a time (the context is not shareable)."""

    def __init__(self, settings: LlamaCppSettings) -> None:
        import llama_cpp  # heavy import: only when this backend is used

        self._lib = llama_cpp

        path = settings.model_path or default_model_path(settings.shipped_model)
        if not Path(path).is_file():
            raise LLMError(f"model file not found: {path}")
        self.name = Path(path).name
        self.n_ctx = settings.n_ctx
        self.n_gpu_layers = gpu_layers(settings)
        self._lock = threading.Lock()
        # verbose=False would point fds 1 and 2 at /dev/null while the model loads, and so
        # swallow every other worker's log lines in a `radio up` (seen). So: verbose=True,
        # llama.cpp's own log lines through `logging`, its Python prints captured.
        _route_llama_cpp_logs()
        printed = io.StringIO()
        try:
            with _load_lock, contextlib.redirect_stderr(printed):
                self._llama = llama_cpp.Llama(
                    model_path=str(path), n_ctx=settings.n_ctx,
                    n_threads=threads_for(Path(path), settings),
                    n_gpu_layers=self.n_gpu_layers,
                    use_mmap=settings.use_mmap, verbose=True,
                    **attention_args(settings))
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
            started = time.monotonic()
            self._lib.llama_perf_context_reset(self._llama.ctx)
            try:
                result = self._llama.create_chat_completion(
                    messages=cast(Any, messages), temperature=sampling.temperature,
                    top_p=sampling.top_p, min_p=sampling.min_p,
                    repeat_penalty=sampling.repeat_penalty, max_tokens=sampling.max_tokens,
                    mirostat_mode=sampling.mirostat_mode,
                    **kwargs)
            except (ValueError, RuntimeError) as exc:  # e.g. prompt longer than n_ctx
                raise LLMError(f"{self.name}: {exc}") from exc
            self._log_call(time.monotonic() - started)
        return cast(dict, result)["choices"][0]["message"]["content"] or ""

    def _log_call(self, wall_s: float) -> None:
        """Where a call's time went (scripts/bench_station.py adds these lines up): the
        prompt tokens it evaluated (not those reused from the cache), the tokens it
        generated, and the rest (sampling under the grammar)."""
        perf = self._lib.llama_perf_context(self._llama.ctx)
        prompt_s, generation_s = perf.t_p_eval_ms / 1000, perf.t_eval_ms / 1000
        log.info("llm call: prompt %d tokens in %.2f s, generation %d tokens in %.2f s, "
                 "other %.2f s", perf.n_p_eval, prompt_s, perf.n_eval, generation_s,
                 max(0.0, wall_s - prompt_s - generation_s))

    def close(self) -> None:
        with self._lock:
            self._llama.close()


def load(settings: LlamaCppSettings) -> LlamaCppChat:
    return LlamaCppChat(settings)


_load_lock = threading.Lock()
# ggml's levels (1 debug, 2 info, 3 warn, 4 error): its warnings are model quirks and
# tuning hints, so INFO; the rest is chatter.
_LLAMA_LEVELS = {3: logging.INFO, 4: logging.ERROR}


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
