"""embeddings: Embeds summarized papers into the vector index; novelty and related papers.

Not implemented yet: this worker connects and reports `stub`, and handles nothing.
"""

from __future__ import annotations

from radio.messages import PaperEmbedded, PaperSummarized
from radio.worker import Worker


class EmbeddingsWorker(Worker):
    name = "embeddings"
    consumes = (PaperSummarized,)
    produces = (PaperEmbedded,)
    implemented = False
