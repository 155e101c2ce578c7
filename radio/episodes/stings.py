"""Intro and outro stings, synthesized: the station owns every sound it plays.

A sting is a short bell-like arpeggio over a soft pad (additive synthesis with
inharmonic partials and exponential decay), rising for the intro and falling for
the outro. Deterministic: the same rate always gives the same samples.
"""

from __future__ import annotations

import numpy as np

# A major ninth chord (A3 C#4 E4 A4 B4), as a listener hears a station jingle.
_NOTES_HZ = (220.0, 277.18, 329.63, 440.0, 493.88)
# Bell partials: ratio, relative level, decay time (s).
_PARTIALS = ((1.0, 1.0, 1.2), (2.0, 0.35, 0.7), (2.76, 0.2, 0.45), (5.4, 0.08, 0.25))
_STEP_S = 0.16
_LENGTH_S = 2.8
_PEAK = 0.5


def _bell(freq: float, length: int, rate: int) -> np.ndarray:
    t = np.arange(length) / rate
    tone = np.zeros(length)
    for ratio, level, decay in _PARTIALS:
        tone += level * np.sin(2 * np.pi * freq * ratio * t) * np.exp(-t / decay)
    attack = min(length, int(0.004 * rate))  # 4 ms fade-in: no click
    tone[:attack] *= np.linspace(0.0, 1.0, attack)
    return tone


def _pad(length: int, rate: int) -> np.ndarray:
    t = np.arange(length) / rate
    chord = sum(np.sin(2 * np.pi * f * t) for f in _NOTES_HZ[:3])
    envelope = np.sin(np.pi * np.arange(length) / length) ** 2  # swell in and out
    return 0.25 * chord * envelope


def sting(rate: int, *, rising: bool = True) -> np.ndarray:
    """A mono float32 sting of about 2.8 s at `rate`, peak 0.5 (about -6 dBFS)."""
    length = int(_LENGTH_S * rate)
    out = _pad(length, rate)
    notes = _NOTES_HZ if rising else tuple(reversed(_NOTES_HZ))
    for index, freq in enumerate(notes):
        start = int(index * _STEP_S * rate)
        out[start:] += _bell(freq, length - start, rate)
    fade = int(0.3 * rate)  # end on silence, never cut mid-ring
    out[-fade:] *= np.linspace(1.0, 0.0, fade) ** 2
    return (out * (_PEAK / np.max(np.abs(out)))).astype(np.float32)
