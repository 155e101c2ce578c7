"""pdf: Turns a fetched PDF into clean text, sections, page images and a title card.

Not implemented yet: this worker connects and reports `stub`, and handles nothing.
"""

from __future__ import annotations

from radio.messages import PaperFetched, PaperParsed
from radio.worker import Worker


class PdfWorker(Worker):
    name = "pdf"
    consumes = (PaperFetched,)
    produces = (PaperParsed,)
    implemented = False
