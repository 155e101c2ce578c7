"""Unsayable Unicode through every TTS backend: emoji, right-to-left scripts, math
alphanumerics, bidi controls, zero-width and combining marks. The words around them are
spoken; a line with nothing speakable is a clear NothingToSay (the tts worker gives that
line no audio: radio/workers/tts.py), never a crash or noise.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from radio.backends.tts import NothingToSay, load_voice, say
from radio.config import Settings
from radio.speech.normalize import normalize

LINES = [
    "🤖🚀 Language models are 🔥 this week 👀",
    "The model reads שלום and مرحبا in one sentence.",
    "We set 𝐱 ∈ ℝⁿ and the cost is 𝒪(n log n) 𝔼[𝑓].",
    "A hidden \u202eelbat\u202c override, a zero\u200bwidth space and Z̷̢a̶l̴g̸o marks.",
    "ｆｕｌｌｗｉｄｔｈ letters and ① circled ② numbers.",
]
NOTHING = ["🤖🚀🔥👀", "שלום مرحبا", "\u202e\u200b\u200d\ufeff"]  # (math symbols are read out)
VOICES = [
    pytest.param("piper:joe", marks=pytest.mark.slow),
    pytest.param("kokoro:jf_alpha", marks=pytest.mark.slow),
    "hibari:heart", "flite:slt", "espeak:en-us+m3",
]


@pytest.mark.parametrize("name", VOICES)
def test_every_backend_speaks_the_words_around_unsayable_characters(name: str,
                                                                   tmp_path: Path) -> None:
    voice = load_voice(name, Settings(data_dir=tmp_path / "data"))
    for line in LINES:
        spoken = normalize(line, voice.engine)
        assert spoken.isascii(), spoken  # only what every engine can say reaches it
        audio, rate = say(voice, line)
        seconds = audio.size / rate
        words = len(spoken.split())
        assert np.isfinite(audio).all() and np.abs(audio).max() > 0.05, line  # speech
        assert 0.3 * words * 60 / voice.words_per_minute < seconds < 20, (line, seconds)
    for line in NOTHING:
        with pytest.raises(NothingToSay, match="nothing speakable"):
            say(voice, line)


def test_the_words_survive_and_the_marks_go() -> None:
    assert normalize(LINES[0]) == "Language models are this week"
    assert normalize(LINES[3]).startswith("A hidden elbat override, a zerowidth space")
    assert "Zalgo marks" in normalize(LINES[3])
    assert normalize(LINES[4]).startswith("fullwidth letters")
