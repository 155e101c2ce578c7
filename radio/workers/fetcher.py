"""fetcher: Polls arXiv (API, RSS, OAI) politely and downloads new PDFs.

Not implemented yet: this worker connects and reports `stub`, and handles nothing.
"""

from __future__ import annotations

from radio.messages import PaperFetched
from radio.worker import Worker


class FetcherWorker(Worker):
    name = "fetcher"
    consumes = ()
    produces = (PaperFetched,)
    implemented = False
