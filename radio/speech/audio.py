"""One format for every voiced line: trimmed, levelled, resampled, with its pause after.

Engines differ in rate (16, 22.05, 24 kHz), level and the silence they leave around a
line. Playout plays segments back to back, so each file carries the pause that should
follow it, and the voices sound equally loud.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

from radio.artifacts import atomic_path
from radio.audio import resample

SILENCE = 0.01  # amplitude under which a sample counts as silence
TARGET_RMS = 0.1  # about -20 dBFS on speech
PEAK = 0.89  # -1 dBFS
FORMATS = {"wav": ("WAV", "PCM_16"), "flac": ("FLAC", "PCM_16")}


def trim_silence(audio: np.ndarray, rate: int, pad_s: float = 0.04) -> np.ndarray:
    loud = np.flatnonzero(np.abs(audio) > SILENCE)
    if loud.size == 0:
        return audio[:0]
    pad = int(pad_s * rate)
    return audio[max(0, loud[0] - pad): loud[-1] + pad + 1]


def level(audio: np.ndarray) -> np.ndarray:
    """Speech at a common RMS, with peaks kept under -1 dBFS."""
    speech = audio[np.abs(audio) > SILENCE]
    if speech.size == 0:
        return audio
    gain = TARGET_RMS / float(np.sqrt(np.mean(speech**2)))
    gain = min(gain, PEAK / float(np.max(np.abs(audio))))
    return (audio * gain).astype(np.float32)


def fade(audio: np.ndarray, rate: int, seconds: float = 0.005) -> np.ndarray:
    """Short fades so cut edges do not click."""
    n = min(int(seconds * rate), audio.size // 2)
    if n:
        ramp = np.linspace(0.0, 1.0, n, dtype=np.float32)
        audio = audio.copy()
        audio[:n] *= ramp
        audio[-n:] *= ramp[::-1]
    return audio


def finish_line(audio: np.ndarray, rate: int, target_rate: int, pause_s: float) -> np.ndarray:
    """A synthesized line as it goes on air: mono, trimmed, levelled, resampled, pause after."""
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    audio = fade(level(trim_silence(audio.astype(np.float32), rate)), rate)
    audio = resample(audio, rate, target_rate)
    pause = np.zeros(round(pause_s * target_rate), np.float32)
    return np.clip(np.concatenate([audio, pause]), -1.0, 1.0)


def write_audio(path: Path, audio: np.ndarray, rate: int, fmt: str = "wav") -> Path:
    """Write atomically (temp file and rename): a reader never sees half a segment."""
    container, subtype = FORMATS[fmt]
    with atomic_path(path) as tmp:
        sf.write(tmp, audio, rate, format=container, subtype=subtype)
    return path
