"""espeak-ng (Debian): the last-resort voice; robotic but always there.

Voices are `<language>[+<variant>]`, e.g. en-us+m3 or en-gb-x-rp+f3. The text goes on
stdin, never on a command line, and without brackets: espeak-ng reads [[...]] as phonemes.
"""

from __future__ import annotations

import re
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


WORDS_PER_MINUTE = 150.0  # measured at -s 175
TIMEOUT_S = 120


@cache
def _listing(kind: str) -> tuple[str, ...]:
    """Languages (`--voices`) or variants (`--voices=variant`) this espeak-ng knows."""
    if shutil.which("espeak-ng") is None:
        return ()
    option = "--voices=variant" if kind == "variant" else "--voices"
    out = subprocess.run(["espeak-ng", option], capture_output=True, text=True, timeout=10)
    names = []
    for row in out.stdout.splitlines()[1:]:
        fields = row.split()
        if len(fields) >= 5:
            names.append(fields[4].removeprefix("!v/") if kind == "variant" else fields[1])
    return tuple(names)


def voices(settings: Settings) -> list[str]:
    return [v for v in _listing("language") if v.startswith("en")]


def check(voice: str, settings: Settings) -> None:
    from radio.backends.tts import UnknownVoice

    if shutil.which("espeak-ng") is None:
        raise UnknownVoice(f"espeak:{voice}: espeak-ng is not installed")
    language, _, variant = voice.partition("+")
    if language not in _listing("language"):
        raise UnknownVoice(f"espeak:{voice}: no espeak-ng language {language!r} (English "
                           f"ones: {', '.join(voices(settings))})")
    if variant and variant not in _listing("variant"):
        raise UnknownVoice(f"espeak:{voice}: no espeak-ng variant {variant!r}")


@dataclass
class EspeakVoice:
    name: str
    voice: str
    speed: float
    engine: str = "espeak"
    words_per_minute: float = WORDS_PER_MINUTE

    def synthesize(self, text: str) -> tuple[np.ndarray, int]:
        text = re.sub(r"[\[\]<>]", " ", text)
        with tempfile.TemporaryDirectory(prefix="espeak-") as tmp:
            target = Path(tmp) / "line.wav"
            command = ["espeak-ng", "-v", self.voice, "-s", str(round(175 * self.speed)),
                       "-w", str(target), "--stdin"]
            subprocess.run(command, input=text.encode(), check=True, capture_output=True,
                           timeout=TIMEOUT_S)
            audio, rate = sf.read(target, dtype="float32", always_2d=False)
        return audio, rate


def load(voice: str, settings: Settings) -> EspeakVoice:
    return EspeakVoice(f"espeak:{voice}", voice, settings.tts.speed)
