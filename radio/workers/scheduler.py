"""scheduler: Fires scheduled shows and keeps the writer ahead of the air.

Not implemented yet: this worker connects and reports `stub`, and handles nothing.
"""

from __future__ import annotations

from radio.messages import ShowRequested
from radio.worker import Worker


class SchedulerWorker(Worker):
    name = "scheduler"
    consumes = ()
    produces = (ShowRequested,)
    implemented = False
