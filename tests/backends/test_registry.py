"""The backend registries: a backend is one module and one line in BACKENDS, its settings
are keys of its config section, and an unknown name is refused with the known ones."""

from __future__ import annotations

import importlib

import pytest
from pydantic import BaseModel, ValidationError

from radio.backends import embedder, llm, tts
from radio.backends.llm import (
    BACKGROUND,
    ON_AIR,
    SharedLLM,
    acquire_llm,
    chat_json,
    load_llm,
    release_llm,
)
from radio.backends.llm import shared as shared_llm
from radio.config import EmbedderSettings, LLMSettings, SamplingSettings, Settings, TTSSettings
from tests.backends import echo_backend

SAMPLING = SamplingSettings(max_tokens=8)
SCHEMA = {"type": "object", "properties": {"said": {"type": "string"}}, "required": ["said"]}


def settings_classes(module: object, section: type[BaseModel]) -> list[type[BaseModel]]:
    """The settings classes a backend module defines, beyond the section's own keys."""
    return [v for v in vars(module).values() if isinstance(v, type)
            and issubclass(v, BaseModel) and v.__module__ == module.__name__  # type: ignore
            and v is not section]


@pytest.mark.parametrize("name", sorted(llm.BACKENDS))
def test_every_llm_backend_fulfils_the_contract(name: str) -> None:
    module = importlib.import_module(llm.BACKENDS[name])
    assert isinstance(module.SHARED, bool)
    assert callable(module.load) and callable(module.share_key)
    [own] = settings_classes(module, LLMSettings)  # one settings class, beside the backend
    assert issubclass(LLMSettings, own)  # its keys are [llm] keys
    assert set(own.model_fields) <= set(LLMSettings.model_fields)


@pytest.mark.parametrize("name", sorted(tts.BACKENDS))
def test_every_tts_backend_fulfils_the_contract(name: str) -> None:
    module = importlib.import_module(tts.BACKENDS[name])
    for function in ("voices", "check", "load"):
        assert callable(getattr(module, function)), f"{name}.{function}"
    for own in settings_classes(module, TTSSettings):
        assert issubclass(TTSSettings, own), f"{own.__name__} is not part of [tts]"


def test_every_embedder_backend_fulfils_the_contract() -> None:
    for path in embedder.BACKENDS.values():
        module = importlib.import_module(path)
        assert callable(module.load) and callable(module.share_key)
        [own] = settings_classes(module, EmbedderSettings)
        assert issubclass(EmbedderSettings, own)


def test_backend_keys_stay_where_users_set_them(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings moved beside their backends; the env and TOML keys did not move."""
    monkeypatch.setenv("RADIO_TTS__PIPER_VOICES", '{"lessac": "/voices/lessac.onnx"}')
    monkeypatch.setenv("RADIO_TTS__HIBARI_THREADS", "2")
    monkeypatch.setenv("RADIO_LLM__BASE_URL", "http://gpu-box:8080/v1")
    monkeypatch.setenv("RADIO_LLM__MODEL_PATH", "/models/x.gguf")
    monkeypatch.setenv("RADIO_EMBEDDER__BATCH_SIZE", "7")
    settings = Settings()
    assert str(settings.tts.piper_voices["lessac"]) == "/voices/lessac.onnx"
    assert settings.tts.hibari_threads == 2
    assert settings.llm.base_url == "http://gpu-box:8080/v1"
    assert str(settings.llm.model_path) == "/models/x.gguf"
    assert settings.embedder.batch_size == 7
    with pytest.raises(ValidationError, match="piper_voicez"):
        TTSSettings(piper_voicez={})  # still no unknown keys


@pytest.mark.parametrize(("section", "what"), [(LLMSettings, "LLM"),
                                               (EmbedderSettings, "embedder")])
def test_an_unknown_backend_is_refused_with_the_known_ones(section: type[BaseModel],
                                                           what: str) -> None:
    with pytest.raises(ValidationError, match=rf"unknown {what} backend 'nope' \(known: "):
        section(backend="nope")


@pytest.fixture
def echo(monkeypatch: pytest.MonkeyPatch) -> LLMSettings:
    """The test backend, added the way a new backend is: one line in BACKENDS."""
    monkeypatch.setitem(llm.BACKENDS, "echo", "tests.backends.echo_backend")
    echo_backend.loads.clear()
    echo_backend.closed.clear()
    return LLMSettings(backend="echo", n_ctx=256)


def test_a_new_backend_is_one_module_and_one_registry_line(echo: LLMSettings) -> None:
    model = load_llm(echo)
    assert (model.name, model.n_ctx) == ("echo", 256)
    assert chat_json(model, [{"role": "user", "content": "hi"}], sampling=SAMPLING,
                     schema=SCHEMA) == {"said": "hi"}
    release_llm(model)  # a model of its own is closed on release
    assert echo_backend.closed == ["echo"]


def test_a_shared_backend_is_loaded_once_per_process(echo: LLMSettings) -> None:
    writer, summarizer = acquire_llm(echo, ON_AIR), acquire_llm(echo, BACKGROUND)
    try:
        assert isinstance(writer, SharedLLM) and isinstance(summarizer, SharedLLM)
        assert writer.llm is summarizer.llm and echo_backend.loads == ["echo"]
        assert writer.count_tokens("two words") == 2 and writer.n_ctx == 256
        assert summarizer.chat([{"role": "user", "content": "x"}], sampling=SAMPLING) == "x"
    finally:
        writer.close()
        summarizer.close()
    assert shared_llm._loaded == {}


def test_a_backend_that_is_not_shared_gives_each_caller_its_own(
        echo: LLMSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(echo_backend, "SHARED", False)
    first, second = acquire_llm(echo), acquire_llm(echo)
    assert not isinstance(first, SharedLLM) and first is not second
    assert echo_backend.loads == ["echo", "echo"] and shared_llm._loaded == {}
    release_llm(first)
    release_llm(second)
    assert echo_backend.closed == ["echo", "echo"]
