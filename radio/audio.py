"""Audio as the station handles it inside: mono float32 arrays at a known rate.

One place reads a file into that form and resamples, for the tts worker, the playout
clock and the episode assembler alike.
"""

from __future__ import annotations

from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf


class UnreadableAudio(ValueError):
    """An audio file that soundfile cannot read; the message names it."""


def resample(audio: np.ndarray, rate: int, target: int) -> np.ndarray:
    if rate == target or audio.size == 0:
        return audio.astype(np.float32, copy=False)
    from scipy.signal import resample_poly  # scipy is slow to import: only when needed
    common = gcd(rate, target)
    return resample_poly(audio, target // common, rate // common).astype(np.float32)


def read_mono(path: Path, rate: int) -> np.ndarray:
    """A WAV or FLAC file (any rate, any channels) as mono float32 at `rate`."""
    try:
        data, source_rate = sf.read(path, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise UnreadableAudio(f"unreadable audio {path.name}: {exc}") from exc
    return resample(data.mean(axis=1), source_rate, rate)
