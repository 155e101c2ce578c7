"""A test backend (registered by the tests, as any backend is: one line in BACKENDS):
flite, except that it fails on any line that mentions "HalluCiteChecker"."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from radio.backends.tts import flite
from radio.config import Settings

voices = flite.voices
check = flite.check


@dataclass
class FlakyVoice:
    inner: flite.FliteVoice
    name: str
    engine: str = "flite"
    words_per_minute: float = flite.WORDS_PER_MINUTE

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        if "Hallu Cite Checker" in text:
            raise RuntimeError("this engine cannot say that")
        return self.inner.synthesize(text)


def load(voice: str, settings: Settings) -> FlakyVoice:
    return FlakyVoice(flite.load(voice, settings), f"flaky:{voice}")
