"""playout: The clock: puts voiced segments on air, falls back, never dead air.

Not implemented yet: this worker connects and reports `stub`, and handles nothing.
"""

from __future__ import annotations

from radio.messages import OnAirNow, SegmentVoiced
from radio.worker import Worker


class PlayoutWorker(Worker):
    name = "playout"
    consumes = (SegmentVoiced,)
    produces = (OnAirNow,)
    implemented = False
