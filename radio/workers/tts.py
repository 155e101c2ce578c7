"""tts: Voices a written script line by line with each host's voice.

Not implemented yet: this worker connects and reports `stub`, and handles nothing.
"""

from __future__ import annotations

from radio.messages import SegmentVoiced, ShowWritten
from radio.worker import Worker


class TtsWorker(Worker):
    name = "tts"
    consumes = (ShowWritten,)
    produces = (SegmentVoiced,)
    implemented = False
