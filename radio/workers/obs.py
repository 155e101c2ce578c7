"""obs: Drives OBS over obs-websocket v5 from the on-air state.

Not implemented yet: this worker connects and reports `stub`, and handles nothing.
"""

from __future__ import annotations

from radio.worker import Worker


class ObsWorker(Worker):
    name = "obs"
    consumes = ()
    produces = ()
    implemented = False
