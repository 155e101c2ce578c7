"""embeddings: puts each parsed paper into the vector index; novelty and related papers.

Consumes `papers/parsed` (and `papers/summarized`), produces `papers/embedded`. A paper is
embedded right after parsing, from its title and abstract, so search, related papers and
ranking never wait on the LLM; when its summary arrives the vector is embedded again with the
short summary joined (radio/understanding/index.py), in place, and nothing is published
again (a paper summarized before it was embedded is embedded then, and published). Commands
`search` (args text, k) and `related` (args arxiv_id, k) are answered on `replies/<reply_to>`
(a QueryReply), so `radio papers search|related` need not load the model. The
index lives under
DataRoot.index_dir and is saved at most every `SAVE_EVERY_S` (and at stop). It can always be
rebuilt from the store (`radio papers reindex`), so one embeddings instance per data root.

Idempotent: a parsed paper already in the index is not embedded again; its novelty and
related papers are computed again and published with the same message id.
"""

from __future__ import annotations

import asyncio
import re
import time

from radio.artifacts import InvalidId
from radio.backends.embedder import load_embedder
from radio.messages import (
    Command,
    PaperEmbedded,
    PaperParsed,
    PaperSummarized,
    QueryHit,
    QueryReply,
    topic_of,
)
from radio.understanding.index import Library
from radio.worker import PermanentError, Worker

STAGE = "embed"
SAVE_EVERY_S = 30.0
RELATED = 5
TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")


class EmbeddingsWorker(Worker[PaperParsed | PaperSummarized]):
    name = "embeddings"
    preload = ("faiss", "onnxruntime", "tokenizers")
    consumes = (PaperParsed, PaperSummarized)
    produces = (PaperEmbedded,)

    library: Library
    updated = 0  # vectors embedded again with their summary

    async def setup(self) -> None:
        self.library = await asyncio.to_thread(self._load)
        self._saved_at = time.monotonic()
        self._dirty = False

    def _load(self) -> Library:
        return Library(self.store, load_embedder(self.settings.embedder), self.data.index_dir)

    def priority(self, message: PaperParsed | PaperSummarized) -> int:
        return 1 if isinstance(message, PaperSummarized) else 0  # new papers first

    async def handle(self, message: PaperParsed | PaperSummarized) -> None:
        embedded = await asyncio.to_thread(self.process, message)
        if embedded is not None:
            await self.publish(embedded)

    def process(self, message: PaperParsed | PaperSummarized) -> PaperEmbedded | None:
        """Embed one paper (if new, or again with its summary), then its novelty and related
        papers (blocking). None: a summary update of a paper already published."""
        try:
            self.data.paper_dir(message.arxiv_id)
        except InvalidId as exc:
            raise PermanentError(str(exc)) from exc
        done = message.arxiv_id in self.library.index and \
            self.store.stage(message.arxiv_id, message.version, STAGE) == "done"
        summary_update = isinstance(message, PaperSummarized) and done
        if summary_update or not done:
            try:
                self.library.embed_papers([message.arxiv_id], save=False)
            except KeyError as exc:
                raise PermanentError(str(exc)) from exc
            self._dirty = True
            self._save_if_due()
        novelty = self.library.novelty(message.arxiv_id)
        detail = f"novelty {novelty:.3f}" if novelty is not None else "first of its kind"
        detail += ", with its summary" if isinstance(message, PaperSummarized) else \
            ", from title and abstract"
        self.store.set_stage(message.arxiv_id, message.version, STAGE, "done", detail)
        if summary_update:
            self.updated += 1
            return None
        related = [hit.arxiv_id for hit in self.library.index.related(message.arxiv_id, RELATED)]
        return PaperEmbedded(arxiv_id=message.arxiv_id, version=message.version,
                             novelty=novelty, related=related)

    async def on_command(self, command: Command) -> None:
        if command.action not in ("search", "related"):
            await super().on_command(command)
            return
        token = command.args.get("reply_to", "")
        if not TOKEN.fullmatch(token):
            self.log.warning("%s command without a valid reply_to: ignored", command.action)
            return
        if not self.ready.is_set() or not hasattr(self, "library"):
            reply = QueryReply(token=token, error="the embeddings worker is still starting")
        else:
            reply = await asyncio.to_thread(self.query, command, token)
        await self.bus.publish(topic_of(QueryReply, token=token), reply.to_json(), qos=1)

    def query(self, command: Command, token: str) -> QueryReply:
        """Answer a `search` or `related` command (blocking: runs in a thread)."""
        try:
            k = max(1, min(int(command.args.get("k", "10")), 100))
        except ValueError:
            return QueryReply(token=token, error="k is not a number")
        novelty = None
        if command.action == "search":
            text = command.args.get("text", "").strip()
            if not text:
                return QueryReply(token=token, error="nothing to search for")
            hits = self.library.search(text, k)
        else:
            arxiv_id = command.args.get("arxiv_id", "")
            if arxiv_id not in self.library.index:
                return QueryReply(token=token,
                                  error=f"{arxiv_id} is not in the index (not embedded yet?)")
            hits = self.library.index.related(arxiv_id, k)
            novelty = self.library.novelty(arxiv_id)
        titles = self.store.paper_titles([h.arxiv_id for h in hits])
        return QueryReply(token=token, novelty=novelty, hits=[
            QueryHit(arxiv_id=h.arxiv_id, score=float(h.score), title=titles.get(h.arxiv_id, ""))
            for h in hits])

    def _save_if_due(self, force: bool = False) -> None:
        if self._dirty and (force or time.monotonic() - self._saved_at >= SAVE_EVERY_S
                            or len(self.library.index) < 1000):  # small: saving is cheap
            self.library.index.save()
            self._saved_at, self._dirty = time.monotonic(), False

    async def background(self) -> None:
        while True:
            await asyncio.sleep(SAVE_EVERY_S)
            await asyncio.to_thread(self._save_if_due)

    async def teardown(self) -> None:
        if hasattr(self, "library"):
            await asyncio.to_thread(self._save_if_due, True)

    def status_detail(self) -> dict:
        library = getattr(self, "library", None)
        return {"papers": len(library.index), "summaries_joined": self.updated} \
            if library else {}
