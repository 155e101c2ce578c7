"""summarizer: a grounded summary of each parsed paper, written by the local LLM.

Consumes `papers/parsed`, produces `papers/summarized`. Reads the paper's text.txt and
sections.json (pdf worker), its title and abstract from the store, and writes
`papers/<id>/v<version>/summary.json` (a SummaryRecord: hook, short, deep, key points,
grounding) plus a row in `summaries`, and the paper's chunks with their vectors beside it
(chunks.json, chunks.npy) for retrieval. A paper without a text layer is summarized from its
abstract alone.

Air-bound papers first: a paper a show will discuss soon (radio.shows.airbound: shows
requested and not yet written, breaking news among them, and scheduled shows due within a
day, each show's top papers) is queued for air and summarized before the rest, which wait
for the LLM to be idle. The set is looked at again every `AIR_REFRESH_S`; a waiting paper
that became air-bound moves up the queue. `radio status` shows both counts.

Idempotent: a version already summarized is published again from its stored summary, with
the same message id. The model runs in a thread, so the bus keeps its keepalive.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
from pydantic import ValidationError

from radio.artifacts import InvalidId
from radio.backends.embedder import load_embedder
from radio.backends.llm import BACKGROUND, LLM, LLMError, acquire_llm, release_llm
from radio.messages import Message, PaperParsed, PaperSummarized
from radio.shows.airbound import air_bound, explicit_ids
from radio.understanding.chunks import Chunk, load_chunks, save_chunks
from radio.understanding.summaries import (
    STAGE,
    being_read_by,
    mark_reading,
    save_summary,
    summary_target,
    wait_for_reader,
)
from radio.understanding.summarize import PaperText, Summarizer, SummaryRecord
from radio.worker import PermanentError, Worker

READER = "summarizer"  # the stage's detail while this worker reads a paper
FOR_AIR, BACKGROUND_WORK = 0, 1  # queue priorities: lower goes first
AIR_REFRESH_S = 15.0


class SummarizerWorker(Worker[PaperParsed]):
    name = "summarizer"
    preload = ("llama_cpp", "onnxruntime", "tokenizers")
    consumes = (PaperParsed,)
    produces = (PaperSummarized,)

    llm: LLM
    summarizer: Summarizer

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.air: set[str] = set()  # air-bound papers, as last looked at
        self.queued: dict[str, int] = {}  # message id -> priority, while it waits

    async def setup(self) -> None:
        self.summarizer = await asyncio.to_thread(self._load)

    def priority(self, message: PaperParsed) -> int:
        # A paper named by a pending request (breaking news) may be newer than the last look.
        urgent = message.arxiv_id in self.air or message.arxiv_id in explicit_ids(self.store)
        level = FOR_AIR if urgent else BACKGROUND_WORK
        self.queued[message.id] = min(level, self.queued.get(message.id, level))
        return level

    async def background(self) -> None:
        while True:
            try:
                await self.refresh_air()
            except Exception as exc:  # the order is an optimisation: never stop on it
                self.log.warning("air-bound papers not looked at: %s", exc)
            await asyncio.sleep(AIR_REFRESH_S)

    async def refresh_air(self) -> int:
        """Look at what will air again; move waiting papers that now will up the queue."""
        self.air = await asyncio.to_thread(air_bound, self.store, self.settings)
        moved = 0
        for row in self.store.inbox_pending(self.name):
            try:
                message = PaperParsed.from_json(row["payload"])
            except (ValueError, ValidationError):
                continue
            if message.arxiv_id in self.air and self.queued.get(message.id) == BACKGROUND_WORK:
                self.queued[message.id] = FOR_AIR  # the old entry is skipped once handled
                await self._queue.put((row["topic"], row["payload"]), FOR_AIR)
                moved += 1
        if moved:
            self.log.info("%d waiting papers are now bound for air: summarized first", moved)
        return moved

    def _load(self) -> Summarizer:
        try:
            # The process's one model (shared with the writer in `radio up`); the writer's
            # on-air calls go first when both wait.
            self.llm = acquire_llm(self.settings.llm, BACKGROUND)
        except LLMError as exc:
            raise RuntimeError(f"summarizer: {exc}") from exc
        return Summarizer(self.llm, load_embedder(self.settings.embedder), self.settings.llm)

    async def teardown(self) -> None:
        release_llm(getattr(self, "llm", None))

    async def handle(self, message: PaperParsed) -> None:
        self.queued.pop(message.id, None)
        summarized = await asyncio.to_thread(self.process, message)
        await self.publish(summarized)

    def process(self, message: PaperParsed) -> PaperSummarized:
        """Summarize and record one paper version (blocking: runs in a thread)."""
        target = self._target(message)
        if being_read_by(self.store, message.arxiv_id, message.version) not in (None, READER):
            # The writer reads it for a show right now: its sheet becomes the summary.
            wait_for_reader(self.store, message.arxiv_id, message.version)
        done = self._already_done(message, target)
        if done is not None:
            self.log.info("%sv%d already summarized", message.arxiv_id, message.version)
            self._keep_chunks(message, target.parent)  # the writer's sheet saved none
            return done
        mark_reading(self.store, message.arxiv_id, message.version, READER)
        paper = self._paper(message)
        chunked = self._keep_chunks(message, target.parent, paper)
        try:
            record = self.summarizer.summarize(paper, chunked)
        except LLMError as exc:  # the runtime retries; the stage says why meanwhile
            self.store.set_stage(message.arxiv_id, message.version, STAGE, "failed", str(exc))
            raise
        save_summary(self.store, self.data, record)
        self.log.info("%sv%d summarized (%s, grounding %.2f)", message.arxiv_id,
                      message.version, record.mode, record.grounding.rate)
        return self._message(record, target)

    def _keep_chunks(self, message: PaperParsed, directory: Path,
                     paper: PaperText | None = None) -> tuple[list[Chunk], np.ndarray]:
        """The paper's chunk vectors, saved for retrieval later (writers, embeddings); the
        paper's text is read only when they are not saved yet."""
        saved = load_chunks(directory, self.summarizer.embedder.name)
        if saved is not None:
            return saved
        chunks, vectors = self.summarizer.chunks(paper or self._paper(message))
        save_chunks(directory, chunks, vectors, self.summarizer.embedder.name)
        return chunks, vectors

    def pending(self, topic: str, since: str) -> list[Message]:
        """Papers summarized, from their summary.json (radio/recovery.py)."""
        found: list[Message] = []
        for row in self.store.stages_since(STAGE, ("done",), since):
            try:
                target = summary_target(self.data, row["arxiv_id"], row["version"])
                record = SummaryRecord.model_validate_json(target.read_bytes())
                found.append(self._message(record, target))
            except (InvalidId, OSError, ValueError):
                continue
        return found

    def _target(self, message: PaperParsed) -> Path:
        try:
            return summary_target(self.data, message.arxiv_id, message.version)
        except InvalidId as exc:
            raise PermanentError(str(exc)) from exc

    def _already_done(self, message: PaperParsed, target: Path) -> PaperSummarized | None:
        if self.store.stage(message.arxiv_id, message.version, STAGE) != "done":
            return None
        try:
            record = SummaryRecord.model_validate_json(target.read_bytes())
        except (OSError, ValueError):
            return None  # recorded but gone or damaged: summarize again
        return self._message(record, target)

    def _paper(self, message: PaperParsed) -> PaperText:
        row = self.store.paper(message.arxiv_id)
        if row is None:
            raise PermanentError(f"paper {message.arxiv_id} is not in the store")
        text, sections = row["abstract"], None
        if message.text is not None and message.has_text_layer:
            try:
                path = self.data.verify(message.text)
            except (OSError, ValueError) as exc:
                raise PermanentError(f"text artifact: {exc}") from exc
            text = path.read_text(encoding="utf-8")
            sections = _read_json(path.with_name("sections.json"))
        return PaperText(arxiv_id=message.arxiv_id, version=message.version, title=row["title"],
                     abstract=row["abstract"], text=text, sections=sections)

    def _message(self, record: SummaryRecord, target: Path) -> PaperSummarized:
        return PaperSummarized(arxiv_id=record.arxiv_id, version=record.version,
                               summary=self.data.artifact(target), hook=record.summary.hook,
                               grounding_rate=record.grounding.rate)

    def status_detail(self) -> dict:
        llm = getattr(self, "llm", None)
        levels = list(getattr(self, "queued", {}).values())
        return {**({"model": llm.name} if llm else {}),
                "queued_for_air": levels.count(FOR_AIR),
                "queued_background": levels.count(BACKGROUND_WORK)}


def _read_json(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
