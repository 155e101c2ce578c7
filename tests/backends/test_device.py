"""device = auto | cpu | cuda: the GPU where this machine and build have one, else the CPU
with one log line that says why. On a machine without a GPU (CI) the real models take the
fallback; on one with a GPU the same tests check that they went to it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from radio.backends import device
from radio.backends.embedder import load_embedder
from radio.backends.llm import chat_json, load_llm, tiny_model_path
from radio.backends.tts import load_voice, say
from radio.config import EmbedderSettings, LLMSettings, SamplingSettings, Settings, TTSSettings

LOGGER = "radio.backends.device"


@pytest.fixture(autouse=True)
def fresh_lines() -> Iterator[None]:
    device._said.cache_clear()  # each test sees its own first line
    yield
    device._said.cache_clear()


def lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [(r.levelno, r.getMessage()) for r in caplog.records if r.name == LOGGER]


def test_cpu_never_probes() -> None:
    def probe() -> str | None:
        raise AssertionError("probed")

    assert device.resolve("cpu", "engine", probe) == "cpu"


@pytest.mark.parametrize(("asked", "level"), [("auto", logging.INFO),
                                              ("cuda", logging.WARNING)])
def test_no_gpu_falls_back_to_the_cpu_with_one_line(asked: device.Device, level: int,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    for _ in range(3):  # three voices of one engine load: one line
        assert device.resolve(asked, "engine", lambda: "no CUDA here") == "cpu"
    assert lines(caplog) == [(level, "engine runs on the CPU: no CUDA here")]


def test_a_gpu_is_used_and_said_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    assert device.resolve("auto", "engine", lambda: None) == "cuda"
    assert device.resolve("cuda", "engine", lambda: None) == "cuda"
    assert lines(caplog) == [(logging.INFO, "engine runs on the GPU (CUDA)")]


@pytest.mark.slow
def test_the_probes_tell_what_the_libraries_say() -> None:
    import llama_cpp
    import onnxruntime
    import torch

    assert (device.llama_cpp_gpu() is None) == bool(llama_cpp.llama_supports_gpu_offload())
    assert (device.onnx_cuda() is None) == \
        ("CUDAExecutionProvider" in onnxruntime.get_available_providers())
    assert (device.torch_cuda() is None) == torch.cuda.is_available()


@pytest.mark.slow
def test_llama_cpp_asked_for_cuda_runs_where_it_can(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    gpu = device.llama_cpp_gpu() is None
    model = load_llm(LLMSettings(model_path=tiny_model_path(), n_ctx=512, n_threads=1,
                                 device="cuda"))
    try:
        assert model.n_gpu_layers == (-1 if gpu else 0)  # type: ignore[attr-defined]
        data = chat_json(model, [{"role": "user", "content": "A JSON object, please."}],
                         sampling=SamplingSettings(max_tokens=24, seed=1),
                         schema={"type": "object", "properties": {"a": {"type": "string"}},
                                 "required": ["a"]})
        assert isinstance(data["a"], str)  # it answers wherever it runs
    finally:
        model.close()
    said = [text for _, text in lines(caplog) if text.startswith("llama.cpp runs")]
    assert said == (["llama.cpp runs on the GPU (CUDA)"] if gpu else [
        "llama.cpp runs on the CPU: this llama-cpp-python build has no GPU offload "
        "(install a CUDA build)"])


def test_llama_cpp_on_cpu_offloads_nothing() -> None:
    from radio.backends.llm.llamacpp import gpu_layers

    assert gpu_layers(LLMSettings(device="cpu", n_gpu_layers=-1)) == 0


@pytest.mark.slow
def test_the_embedder_runs_where_it_can(caplog: pytest.LogCaptureFixture) -> None:
    import torch

    caplog.set_level(logging.INFO, LOGGER)
    model = load_embedder(EmbedderSettings(backend="sentence-transformers", device="cuda",
                                           batch_size=3))
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert model.device == expected  # type: ignore[attr-defined]
    assert model._model.device.type == expected  # type: ignore[attr-defined]
    vectors = model.embed(["graph neural networks", "speech synthesis"])
    assert vectors.shape == (2, model.dim)
    said = [text for _, text in lines(caplog) if text.startswith("sentence-transformers")]
    assert len(said) == 1 and ("GPU" if expected == "cuda" else "CPU") in said[0]


@pytest.mark.slow
@pytest.mark.parametrize("voice", ["hibari:heart", "piper:joe"])
def test_onnx_voices_run_where_they_can(voice: str, tmp_path: Path,
                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, LOGGER)
    settings = Settings(data_dir=tmp_path / "data", tts=TTSSettings(device="cuda"))
    loaded = load_voice(voice, settings)
    session = loaded.engine_model.sess if voice.startswith("hibari") \
        else loaded.model.session  # type: ignore[attr-defined]
    gpu = device.onnx_cuda() is None
    assert session.get_providers()[0] == ("CUDAExecutionProvider" if gpu
                                          else "CPUExecutionProvider")
    audio, rate = say(loaded, "The station runs on any machine.")
    assert audio.size > rate // 2
    engine = "hibari" if voice.startswith("hibari") else "Piper"
    said = [text for _, text in lines(caplog) if text.startswith(engine)]
    assert len(said) == 1 and ("GPU" if gpu else "CPU") in said[0]


def test_llama_cpp_uses_every_core_for_a_model_big_enough_to_split(tmp_path: Path) -> None:
    import os

    from radio.backends.llm.llamacpp import LlamaCppSettings, threads_for

    big = tmp_path / "big.gguf"
    with big.open("wb") as sparse:  # as large as a 1.5B model on disk, without the bytes
        sparse.truncate(1_117_320_768)
    settings = LlamaCppSettings()
    assert threads_for(big, settings) == len(os.sched_getaffinity(0))
    assert threads_for(tiny_model_path(), settings) == 1  # the 135M test model
    assert threads_for(big, LlamaCppSettings(n_threads=3)) == 3  # the operator's
