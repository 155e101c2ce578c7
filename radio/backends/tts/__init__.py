"""Text-to-speech backends behind one small interface.

A voice is named `backend:voice`: piper:joe, hibari:heart, kokoro:jf_alpha, flite:slt,
espeak:en-us+m3. Each backend is one module here that fulfils `Backend` (three functions)
and has one line in BACKENDS; a backend with settings of its own defines them beside it
(`PiperSettings` in piper.py, ...) and config.py's `TTSSettings` lists that class among its
bases, so its keys stay `[tts]` keys (`tts.piper_voices`, `RADIO_TTS__PIPER_VOICES`).

A `Voice` turns already normalized text into float32 mono audio at its own rate;
`say()` normalizes first, for the voice's engine. Backend modules import nothing from
radio.config at run time (config.py imports their settings classes).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Protocol, cast

import numpy as np

from radio.speech.normalize import normalize

if TYPE_CHECKING:
    from radio.config import Settings

BACKENDS: dict[str, str] = {
    "piper": "radio.backends.tts.piper",
    "kokoro": "radio.backends.tts.kokoro",
    "hibari": "radio.backends.tts.hibari",
    "flite": "radio.backends.tts.flite",
    "espeak": "radio.backends.tts.espeak",
}


class Voice(Protocol):
    name: str  # backend:voice
    engine: str  # the backend, for per-engine text tweaks
    words_per_minute: float  # at speed 1.0, measured by scripts/bench_tts.py

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        """Audio (float32 mono in [-1, 1]) and its sample rate."""
        ...


class Backend(Protocol):
    """What a backend module provides."""

    def voices(self, settings: Settings) -> list[str]:
        """The voices it can speak with (for error messages and `radio voices list`)."""
        ...

    def check(self, voice: str, settings: Settings) -> None:
        """Raise UnknownVoice, cheaply (start-up validation): nothing is loaded."""
        ...

    def load(self, voice: str, settings: Settings) -> Voice:
        """The loaded voice (models are shared between voices)."""
        ...


class UnknownVoice(ValueError):
    """A voice name that no backend can speak with."""


class NothingToSay(ValueError):
    """A line with no speakable words left after normalization."""


def split_name(name: str) -> tuple[str, str]:
    backend, sep, voice = name.partition(":")
    if not sep or not voice:
        raise UnknownVoice(f"voice {name!r}: expected backend:voice, e.g. piper:joe "
                           f"(backends: {', '.join(BACKENDS)})")
    if backend not in BACKENDS:
        raise UnknownVoice(f"voice {name!r}: unknown backend {backend!r} "
                           f"(known: {', '.join(BACKENDS)})")
    return backend, voice


def _module(backend: str) -> Backend:
    return cast(Backend, importlib.import_module(BACKENDS[backend]))


def check_voice(name: str, settings: Settings) -> None:
    backend, voice = split_name(name)
    _module(backend).check(voice, settings)


def load_voice(name: str, settings: Settings) -> Voice:
    backend, voice = split_name(name)
    module = _module(backend)
    module.check(voice, settings)
    return module.load(voice, settings)


def available_voices(backend: str, settings: Settings) -> list[str]:
    return [f"{backend}:{v}" for v in _module(backend).voices(settings)]


def validate_voices(settings: Settings) -> dict[str, str]:
    """Check every host's voice and the fallback; raise UnknownVoice naming all bad ones.

    Returns the host -> voice map the tts worker uses.
    """
    wanted = {host.name: host.voice for host in settings.writer.hosts}
    wanted["(fallback)"] = settings.tts.fallback_voice
    problems = []
    for who, name in wanted.items():
        try:
            check_voice(name, settings)
        except UnknownVoice as exc:
            problems.append(f"{who}: {exc}")
    if problems:
        raise UnknownVoice("unknown voice(s) in settings: " + "; ".join(problems))
    wanted.pop("(fallback)")
    return wanted


def say(voice: Voice, text: str) -> tuple[np.ndarray, int]:
    """Speak one script line with `voice`, normalized for its engine."""
    spoken = normalize(text, voice.engine)
    if not any(c.isalpha() for c in spoken):
        raise NothingToSay(f"nothing speakable in {text[:80]!r}")
    audio, rate = voice.synthesize(spoken)
    if audio.size == 0 or not np.isfinite(audio).all():
        raise RuntimeError(f"{voice.name} returned no usable audio for {text[:80]!r}")
    return audio.astype(np.float32, copy=False), rate
