"""The station ident speaks through the TTS backends' voices (flite, then espeak-ng)."""

from __future__ import annotations

import shutil

import pytest

from radio.playout import sounds

RATE = 24000
TEXT = "You are listening to Paper Radio."


@pytest.mark.skipif(not shutil.which("flite"), reason="flite is a Debian package of the image")
def test_the_ident_is_spoken_by_the_first_voice_there_is() -> None:
    speech = sounds.synthesize(TEXT, RATE, voices=("flite:no-such-voice", "flite:slt"))
    assert speech is not None and speech.dtype.name == "float32"
    assert 1.0 < speech.size / RATE < 6.0  # a short sentence, at the timeline's rate
    assert abs(sounds.rms_db(speech) - -20.0) < 0.1


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng is a Debian package")
def test_espeak_speaks_the_ident_when_flite_cannot() -> None:
    speech = sounds.synthesize(TEXT, RATE, voices=("flite:no-such-voice", "espeak:en-us"))
    assert speech is not None and speech.size > RATE


def test_no_voice_there_is_no_speech() -> None:
    assert sounds.synthesize(TEXT, RATE, voices=("flite:no-such-voice",)) is None


@pytest.mark.skipif(not shutil.which("flite"), reason="flite is a Debian package of the image")
def test_the_ident_says_its_text_after_the_chime() -> None:
    ident = sounds.ident(RATE, TEXT, sounds.music_bed(RATE))
    silent_parts = sounds.chime(RATE).size + int(0.7 * RATE)  # chime, gap, tail
    assert ident.size - silent_parts > RATE  # over a second of speech between them
