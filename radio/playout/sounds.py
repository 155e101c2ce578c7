"""The station's own sounds and the one PCM format of the timeline.

Everything on air is mono float32 at one rate inside the clock and s16le on the way
out. The music bed and the ident chime are generated here with numpy (no third-party
audio, so nothing to license); the ident's voice is synthesized once by the TTS backends'
flite or espeak-ng voice (IDENT_VOICES), which ship with their voices under free licences.
"""

from __future__ import annotations

import logging
import subprocess
from typing import TYPE_CHECKING

import numpy as np

from radio.audio import resample

if TYPE_CHECKING:
    from radio.config import Settings

log = logging.getLogger(__name__)

IDENT_VOICES = ("flite:slt", "espeak:en-us")  # the first this machine has speaks the ident

# Imaj7 - vi7 - IVmaj7 - V(add9) in C, as MIDI notes: a calm loop that never resolves hard.
CHORDS = ((48, 55, 64, 71), (45, 52, 60, 67), (41, 48, 57, 64), (43, 50, 59, 62))
CHORD_S = 8.0


def midi_hz(note: float) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def to_s16(pcm: np.ndarray) -> bytes:
    return (np.clip(pcm, -1.0, 1.0) * 32767).astype("<i2").tobytes()


def rms_db(pcm: np.ndarray) -> float:
    if pcm.size == 0:
        return -120.0
    return 20 * float(np.log10(np.sqrt(np.mean(np.square(pcm, dtype=np.float64))) + 1e-12))


def at_level(pcm: np.ndarray, db: float) -> np.ndarray:
    return (pcm * 10 ** ((db - rms_db(pcm)) / 20)).astype(np.float32)


def ramp(n: int, rising: bool) -> np.ndarray:
    """An equal-power fade of n samples."""
    x = np.linspace(0.0, np.pi / 2, n, dtype=np.float32)
    return np.sin(x) if rising else np.cos(x)


def faded(pcm: np.ndarray, rate: int, fade_in_s: float = 0.0, fade_out_s: float = 0.0
          ) -> np.ndarray:
    out = pcm.astype(np.float32, copy=True)
    n_in, n_out = min(int(fade_in_s * rate), out.size), min(int(fade_out_s * rate), out.size)
    if n_in:
        out[:n_in] *= ramp(n_in, True)
    if n_out:
        out[out.size - n_out:] *= ramp(n_out, False)
    return out


def _pad(freq: float, t: np.ndarray) -> np.ndarray:
    """A soft, slightly detuned tone with a little second and third harmonic."""
    tone = np.zeros_like(t)
    for detune in (0.998, 1.0, 1.002):
        f = freq * detune
        tone += np.sin(2 * np.pi * f * t) + 0.25 * np.sin(4 * np.pi * f * t)
        tone += 0.08 * np.sin(6 * np.pi * f * t)
    return tone


def music_bed(rate: int, level_db: float = -24.0, seed: int = 7) -> np.ndarray:
    """A seamless loop of chords with a slow arpeggio over them (len(CHORDS) * CHORD_S)."""
    rng = np.random.default_rng(seed)
    length = int(len(CHORDS) * CHORD_S * rate)
    bed = np.zeros(length + int(CHORD_S * rate), np.float32)
    span = int((CHORD_S + 2.0) * rate)  # each chord rings 2 s into the next
    t = np.arange(span, dtype=np.float32) / rate
    envelope = np.minimum(1.0, t / 1.5) * np.clip((CHORD_S + 2.0 - t) / 2.5, 0.0, 1.0)
    for index, chord in enumerate(CHORDS):
        start = int(index * CHORD_S * rate)
        tones = sum(_pad(midi_hz(n), t) for n in chord)
        bed[start:start + span] += (tones * envelope).astype(np.float32)
        for step in range(int(CHORD_S * 2)):  # a pluck every half second
            note = chord[rng.integers(1, len(chord))] + 12
            at = start + int(step * 0.5 * rate)
            pluck_t = t[: int(1.2 * rate)]
            pluck = np.sin(2 * np.pi * midi_hz(note) * pluck_t) * np.exp(-pluck_t * 4.0)
            bed[at:at + pluck.size] += 1.2 * pluck.astype(np.float32)
    bed[: bed.size - length] += bed[length:]  # wrap the tail around: the loop is seamless
    return at_level(bed[:length], level_db)


def chime(rate: int) -> np.ndarray:
    """Three rising bell notes: the station's signature."""
    notes = (72, 76, 79)
    step, ring = int(0.18 * rate), int(1.4 * rate)
    out = np.zeros(step * len(notes) + ring, np.float32)
    t = np.arange(ring, dtype=np.float32) / rate
    for i, note in enumerate(notes):
        f = midi_hz(note)
        bell = (np.sin(2 * np.pi * f * t) + 0.4 * np.sin(2 * np.pi * 2.76 * f * t)
                * np.exp(-t * 6)) * np.exp(-t * 3.0)
        out[i * step: i * step + ring] += bell.astype(np.float32)
    return at_level(out, -20.0)


def synthesize(text: str, rate: int, settings: Settings | None = None,
               voices: tuple[str, ...] = IDENT_VOICES) -> np.ndarray | None:
    """Speech for the ident with the first of `voices` that speaks; None when none can."""
    from radio.backends.tts import NothingToSay, UnknownVoice, load_voice, say
    from radio.config import Settings

    # The defaults, not the environment: the ident is the station's signature, at speed 1.
    settings = settings or Settings.model_construct()
    for name in voices:
        try:
            audio, source_rate = say(load_voice(name, settings), text)
        except UnknownVoice as exc:  # not installed here: the next one
            log.info("ident: %s", exc)
            continue
        except (NothingToSay, RuntimeError, OSError, subprocess.SubprocessError) as exc:
            log.warning("%s could not voice the ident: %s", name, str(exc)[:200])
            continue
        if audio.size > rate // 10:
            return at_level(resample(audio, source_rate, rate), -20.0)
    return None


def ident(rate: int, text: str, bed: np.ndarray) -> np.ndarray:
    """Chime, then the spoken ident over a quiet bed."""
    bell = chime(rate)
    voice = synthesize(text, rate)
    if voice is None:
        log.warning("no speech synthesizer: the ident is the chime alone")
        voice = np.zeros(0, np.float32)
    gap = np.zeros(int(0.2 * rate), np.float32)
    out = np.concatenate([bell, gap, voice, np.zeros(int(0.5 * rate), np.float32)])
    under = np.resize(bed, out.size) * 0.6
    return faded(out + faded(under, rate, 0.4, 0.6), rate, 0.0, 0.05)
