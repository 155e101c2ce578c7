"""Silence on air, measured on the timeline itself (a sink like the outputs).

Whatever an output does, the timeline is what the station puts on air: this meter counts
its silences (samples under `threshold_db` dBFS), the longest one, and the dead air (the
sum of silences longer than `dead_air_s`). The playout reports it in its status, so fault
tests and the soak read it over the bus.
"""

from __future__ import annotations

import threading

import numpy as np


class SilenceMeter:
    """Feeds on s16le mono PCM; never blocks (a few numpy calls per chunk)."""

    def __init__(self, rate: int, *, threshold_db: float = -60.0, dead_air_s: float = 2.0) -> None:
        self.rate = rate
        self.threshold = int(32768 * 10 ** (threshold_db / 20))
        self.dead_air_samples = int(dead_air_s * rate)
        self.lock = threading.Lock()
        self.samples = 0
        self.run = 0  # the silence going on now
        self.longest = 0
        self.dead_air = 0

    def feed(self, pcm: bytes) -> None:
        loud = np.flatnonzero(np.abs(np.frombuffer(pcm, np.int16).astype(np.int32))
                              > self.threshold)
        size = len(pcm) // 2
        with self.lock:
            self.samples += size
            if loud.size == 0:
                self.run += size
                return
            self._end_run(self.run + int(loud[0]))
            gaps = np.diff(loud) - 1  # silences inside the chunk; zero crossings are none
            for gap in gaps[gaps > self.rate // 100]:
                self._end_run(int(gap))
            self.run = size - 1 - int(loud[-1])

    def _end_run(self, run: int) -> None:
        self.longest = max(self.longest, run)
        if run > self.dead_air_samples:
            self.dead_air += run

    def report(self) -> dict[str, float]:
        """Seconds measured, the longest silence (the one going on included), dead air."""
        with self.lock:
            longest = max(self.longest, self.run)
            dead = self.dead_air + (self.run if self.run > self.dead_air_samples else 0)
            return {"measured_s": round(self.samples / self.rate, 1),
                    "longest_silence_s": round(longest / self.rate, 2),
                    "dead_air_s": round(dead / self.rate, 2)}
