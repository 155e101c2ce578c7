"""recorder: Assembles voiced segments into an mp3 episode with chapters and transcript.

Not implemented yet: this worker connects and reports `stub`, and handles nothing.
"""

from __future__ import annotations

from radio.messages import EpisodeRecorded, SegmentVoiced
from radio.worker import Worker


class RecorderWorker(Worker):
    name = "recorder"
    consumes = (SegmentVoiced,)
    produces = (EpisodeRecorded,)
    implemented = False
