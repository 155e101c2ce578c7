"""summarizer: Summarizes a parsed paper with the local LLM, grounded in its text.

Not implemented yet: this worker connects and reports `stub`, and handles nothing.
"""

from __future__ import annotations

from radio.messages import PaperParsed, PaperSummarized
from radio.worker import Worker


class SummarizerWorker(Worker):
    name = "summarizer"
    consumes = (PaperParsed,)
    produces = (PaperSummarized,)
    implemented = False
