"""flite (Debian): small, fast, clear fallback voices (slt, rms, awb, kal, kal16).

The text goes in a temporary file, never on a command line: paper text is untrusted.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile as sf

if TYPE_CHECKING:
    from radio.config import Settings


WORDS_PER_MINUTE = 135.0  # measured: slt 141, rms 123
TIMEOUT_S = 120


@cache
def _installed() -> tuple[str, ...]:
    if shutil.which("flite") is None:
        return ()
    listing = subprocess.run(["flite", "-lv"], capture_output=True, text=True, timeout=10)
    return tuple(listing.stdout.split(":", 1)[-1].split())


def voices(settings: Settings) -> list[str]:
    return list(_installed())


def check(voice: str, settings: Settings) -> None:
    from radio.backends.tts import UnknownVoice

    if shutil.which("flite") is None:
        raise UnknownVoice(f"flite:{voice}: flite is not installed (apt-get install flite)")
    if voice not in _installed():
        raise UnknownVoice(f"flite:{voice}: no such flite voice (known: "
                           f"{', '.join(_installed())})")


@dataclass
class FliteVoice:
    name: str
    voice: str
    speed: float
    engine: str = "flite"
    words_per_minute: float = WORDS_PER_MINUTE

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        with tempfile.TemporaryDirectory(prefix="flite-") as tmp:
            source, target = Path(tmp) / "line.txt", Path(tmp) / "line.wav"
            source.write_text(text, encoding="utf-8")
            command = ["flite", "-voice", self.voice, "--setf",
                       f"duration_stretch={1.0 / self.speed:.3f}", "-f", str(source),
                       "-o", str(target)]
            subprocess.run(command, check=True, capture_output=True, timeout=TIMEOUT_S)
            audio, rate = sf.read(target, dtype="float32", always_2d=False)
        return audio, rate


def load(voice: str, settings: Settings) -> FliteVoice:
    return FliteVoice(f"flite:{voice}", voice, settings.tts.speed)
