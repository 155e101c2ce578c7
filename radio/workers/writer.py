"""writer: Writes a requested show as a rundown, then as dialogue between the hosts.

Not implemented yet: this worker connects and reports `stub`, and handles nothing.
"""

from __future__ import annotations

from radio.messages import ShowRequested, ShowWritten
from radio.worker import Worker


class WriterWorker(Worker):
    name = "writer"
    consumes = (ShowRequested,)
    produces = (ShowWritten,)
    implemented = False
