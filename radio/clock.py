"""The station's clock: real time, or time run faster for an accelerated soak.

The scheduler and the playout clock both read it. At `clock.time_scale` 1 (the default)
it is the system clock. At a scale N, simulated time runs N times faster than real time,
from `clock.start` (default: now) at the real moment `clock.started_at` (default: when
the process made its clock), so that several worker processes given the same two
settings agree on the simulated time.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta, tzinfo

from radio.config import ClockSettings


class StationClock:
    """Wall time (`now`), a monotonic count of seconds (`monotonic`) and `sleep`, scaled."""

    def __init__(self, settings: ClockSettings | None = None) -> None:
        cfg = settings or ClockSettings()
        self.scale = cfg.time_scale
        self._real_origin = (cfg.started_at or datetime.now(UTC)).timestamp()
        self._sim_origin = cfg.start.timestamp() if cfg.start else self._real_origin
        # Monotonic time at the real origin, so `monotonic` never jumps with NTP.
        self._mono_origin = time.monotonic() - (time.time() - self._real_origin)

    @property
    def real(self) -> bool:
        return self.scale == 1 and self._sim_origin == self._real_origin

    def monotonic(self) -> float:
        """Seconds of station time, for pacing (never goes back)."""
        return (time.monotonic() - self._mono_origin) * self.scale

    def now(self, tz: tzinfo = UTC) -> datetime:
        """The station's wall time in `tz`."""
        if self.real:
            return datetime.now(tz)
        elapsed = (time.monotonic() - self._mono_origin) * self.scale
        return (datetime.fromtimestamp(self._sim_origin, UTC)
                + timedelta(seconds=elapsed)).astimezone(tz)

    def real_seconds(self, seconds: float) -> float:
        """How long `seconds` of station time take in real time."""
        return seconds / self.scale

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(self.real_seconds(max(seconds, 0.0)))
