"""Where a model runs: `device = "auto" | "cpu" | "cuda"` in the llm, tts and embedder settings.

auto and cuda use the GPU when this machine and this build can (a CUDA build of
llama-cpp-python, onnxruntime-gpu's CUDA provider, a CUDA torch); otherwise the model runs
on the CPU and one log line per engine says why (INFO for auto, WARNING for cuda, which
asked for the GPU). Nothing requires a GPU. The probes import their library only when
asked, and only the engine that is used is probed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import cache
from typing import Any, Literal

log = logging.getLogger(__name__)

Device = Literal["auto", "cpu", "cuda"]
DEVICE_HELP = ("auto: the GPU when this machine and build have one, else the CPU (one log "
               "line says why); cuda: the same, logged as a warning when it falls back; cpu.")


def resolve(device: Device, engine: str, probe: Callable[[], str | None]) -> str:
    """'cuda' or 'cpu' for `engine`; `probe` returns why the GPU cannot be used, or None."""
    if device == "cpu":
        return "cpu"
    why = probe()
    if why is None:
        _said(engine, logging.INFO, "on the GPU (CUDA)")
        return "cuda"
    level = logging.WARNING if device == "cuda" else logging.INFO
    _said(engine, level, f"on the CPU: {why}")
    return "cpu"


@cache  # one line per engine and outcome, however many models or voices load
def _said(engine: str, level: int, where: str) -> None:
    log.log(level, "%s runs %s", engine, where)


def llama_cpp_gpu() -> str | None:
    import llama_cpp

    if llama_cpp.llama_supports_gpu_offload():
        return None
    return "this llama-cpp-python build has no GPU offload (install a CUDA build)"


def onnx_cuda() -> str | None:
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        return None
    return "onnxruntime has no CUDAExecutionProvider (install onnxruntime-gpu)"


def torch_cuda() -> str | None:
    import torch

    if not torch.backends.cuda.is_built():
        return f"torch {torch.__version__} is a CPU-only build"
    if not torch.cuda.is_available():
        return "torch sees no CUDA device"
    return None


def onnx_session(model: str, device: str, threads: int | None = None) -> Any:
    """An onnxruntime session for a resolved device (the CPU stays as the CUDA provider's
    fallback), with `threads` for its ops when given.

    Without onnxruntime's CPU arena: the arena keeps each model's largest run for good,
    and grew with every longer line (Piper: +390 to +560 MB resident over 24 lines, Hibari
    +170 MB; the embedder +515 MB on 60 chunks); without it a run's memory goes back
    (+17 to +35 MB for Piper), for about a quarter more of Piper's time, which is ~0.07 of
    real time on 2 cores (measured; docs/backends.md)."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.enable_cpu_mem_arena = False
    options.log_severity_level = 3
    if threads:
        options.intra_op_num_threads = options.inter_op_num_threads = threads
    providers = ["CPUExecutionProvider"]
    if device == "cuda":
        providers.insert(0, "CUDAExecutionProvider")
    return onnxruntime.InferenceSession(model, options, providers=providers)
