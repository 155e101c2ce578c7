"""writer: ShowRequested -> script.json -> ShowWritten.

Plans the rundown of a requested show, writes it exchange by exchange with the LLM from the
papers' fact sheets (every line checked, with a checked fallback: radio.shows.writing),
stores the script under
shows/<show_id>/script.json and in the `shows` table, and publishes `shows/written`.
Idempotent: a show already written is announced again, not written again.

The right show first: scheduled and operator-requested shows go before the scheduler's
filler (`ShowRequested.filler`), and a filler show being written yields at its next segment
boundary when one of them arrives: it is put back in the queue and written afresh after
(its papers may have aired meanwhile; a filler left with nothing to say is dropped quietly).

Breaking news (`kind` news, asked by the fetcher) goes before everything else. It waits, up to
`NEWS_WAIT_S`, for its paper's summary (the summarizer takes it first, as bound for air), so
the LLM reads the paper once; then it is written from the fact sheet, or from the abstract
when the summary has not come.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from radio.artifacts import InvalidId, safe_show_id
from radio.backends.llm import LLM, ON_AIR, LLMError, acquire_llm, release_llm
from radio.health import llm_server_problem
from radio.messages import Message, ShowRequested, ShowWritten
from radio.shows.papers import NoPapers
from radio.shows.ranking import Ranker
from radio.shows.records import record_failed, record_request, record_written, show_status
from radio.shows.script import Script, load_script, save_script, script_path
from radio.shows.writing import ShowWriter, write_show
from radio.worker import Deferred, PermanentError, Worker

FILLER, ON_SCHEDULE, NEWS = 1, 0, -1  # queue priorities: lower goes first
LLM_CHECK_S = 3.0  # how often the LLM server is asked whether it is there
NEWS_WAIT_S = 300.0  # breaking news waits this long for its paper's summary, at most


class Yielded(Exception):
    """A filler show stopped at a segment boundary for a more urgent show."""


class YieldingWriter(ShowWriter):
    """A ShowWriter that asks, before each segment after the first, whether to step aside."""

    def __init__(self, *args: Any, should_yield: Callable[[], bool], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._should_yield = should_yield
        self._segments = 0

    def write_slot(self, *args: Any, **kwargs: Any) -> Any:
        if self._segments and self._should_yield():
            raise Yielded(f"after {self._segments} segments")
        self._segments += 1
        return super().write_slot(*args, **kwargs)


class WriterWorker(Worker[ShowRequested]):
    name = "writer"
    preload = ("llama_cpp", "faiss")
    consumes = (ShowRequested,)
    produces = (ShowWritten,)

    llm: LLM | None = None
    ranker: Ranker | None = None
    last_show: str | None = None
    yielded = 0
    llm_server: str | None = None  # with a server (llm.backend openai): up or down

    def priority(self, message: ShowRequested) -> int:
        if message.kind == "news":
            return NEWS
        return FILLER if message.filler else ON_SCHEDULE

    async def setup(self) -> None:
        try:
            # The process's one model (shared with the summarizer in `radio up`); on-air
            # calls go before the summarizer's when both wait.
            self.llm = await asyncio.to_thread(acquire_llm, self.settings.llm, ON_AIR)
        except LLMError as exc:  # shows still complete, from the stored fact sheets
            self.log.error("no LLM (%s): writing shows from the fact sheets only", exc)
            await self.report_error("shows/requested", None, f"LLM unavailable: {exc}")
        self.ranker = Ranker(self.settings, await asyncio.to_thread(self._library))

    async def teardown(self) -> None:
        release_llm(self.llm)
        self.llm = None

    async def background(self) -> None:
        """Watch the LLM server (openai backend), so its loss and return are said at once,
        not at the next show; each show asks the server again whatever this says."""
        if self.settings.llm.backend != "openai":
            return
        while True:
            problem = await llm_server_problem(self.settings.llm.base_url)
            state = "down" if problem else "up"
            if state != self.llm_server:
                if problem:
                    self.log.error("%s; shows are written without it meanwhile", problem)
                    await self.report_error("llm", "llm", problem)
                elif self.llm_server == "down":
                    self.log.info("the LLM server answers again")
                    if self.last_error and self.last_error.startswith("LLM server"):
                        self.last_error = None
                self.llm_server = state
                await self.publish_status()
            await asyncio.sleep(LLM_CHECK_S)

    def _library(self) -> object | None:
        """The embeddings index for ranking, when the embeddings worker has built one."""
        if not (self.data.index_dir / "papers.faiss").is_file():
            return None
        try:
            from radio.backends.embedder import load_embedder
            from radio.understanding.index import Library

            embedder = load_embedder(self.settings.embedder)
            return Library(self.store, embedder, self.data.index_dir)
        except Exception as exc:  # ranking falls back to words; the show goes on
            self.log.warning("ranking without the embeddings index: %s", exc)
            return None

    async def handle(self, message: ShowRequested) -> None:
        request: ShowRequested = message
        try:
            safe_show_id(request.show_id)
        except InvalidId as exc:
            raise PermanentError(str(exc)) from exc
        record_request(self.store, request)
        if show_status(self.store, request.show_id) in ("written", "voiced", "recorded") \
                and script_path(self.data, request.show_id).is_file():
            self.log.info("%s is already written: announcing it again", request.show_id)
            await self._announce(load_script(self.data, request.show_id))
            return
        if request.kind == "news":
            await self._await_summaries(request.paper_ids, NEWS_WAIT_S)
        try:
            script = await asyncio.to_thread(self._write, request)
        except Yielded as exc:
            self.yielded += 1
            raise Deferred(f"filler {request.show_id} yields to a waiting show {exc}") from exc
        except NoPapers as exc:
            record_failed(self.store, request.show_id, str(exc))
            if request.filler:  # its papers aired in the shows that went first
                self.log.info("filler %s dropped: %s", request.show_id, exc)
                return
            raise PermanentError(str(exc)) from exc
        save_script(self.data, script)
        record_written(self.store, self.data, script)
        self.last_show = script.show_id
        if script.problems:
            self.log.warning("%s written with problems: %s", script.show_id,
                             "; ".join(script.problems))
        await self._announce(script)

    async def _await_summaries(self, arxiv_ids: list[str], timeout: float) -> None:
        """Until every paper is summarized, or failed on the way, or `timeout` has passed."""
        deadline = time.monotonic() + timeout
        waiting = list(arxiv_ids)
        while waiting and time.monotonic() < deadline:
            waiting = [a for a in waiting if not self._summary_settled(a)]
            if waiting:
                await asyncio.sleep(1.0)
        if waiting:
            self.log.warning("news: no summary of %s after %.0f s: written from the abstract",
                             ", ".join(waiting), timeout)

    def _summary_settled(self, arxiv_id: str) -> bool:
        version = self.store.latest_version(arxiv_id)
        if version is None or self.store.summary(arxiv_id, version) is not None:
            return True
        return "failed" in (self.store.stage(arxiv_id, version, "pdf"),
                            self.store.stage(arxiv_id, version, "summary"))

    def _write(self, request: ShowRequested) -> Script:
        if not request.filler:
            return write_show(self.settings, self.store, self.data, self.llm, request,
                              self.ranker)
        writer = YieldingWriter(self.settings, self.store, self.data, self.llm, self.ranker,
                                should_yield=lambda: self.waiting_before(FILLER))
        return writer.write(request)

    def pending(self, topic: str, since: str) -> list[Message]:
        """Shows written, from their scripts (radio/recovery.py)."""
        found: list[Message] = []
        for show_id in self.store.shows_since(("written", "voiced", "recorded"), since):
            try:
                found.append(self._written(load_script(self.data, show_id)))
            except (InvalidId, OSError, ValueError):
                continue
        return found

    async def _announce(self, script: Script) -> None:
        await self.publish(self._written(script))

    def _written(self, script: Script) -> ShowWritten:
        return ShowWritten(
            show_id=script.show_id, kind=script.kind, title=script.title,
            script=self.data.artifact(script_path(self.data, script.show_id)),
            lines=len(script.lines), estimated_s=round(script.estimated_s, 1),
            paper_ids=script.paper_ids)

    def status_detail(self) -> dict:
        return {"llm": self.llm.name if self.llm else "none (fallback only)",
                "last_show": self.last_show, "fillers_yielded": self.yielded,
                "llm_server": self.llm_server}
