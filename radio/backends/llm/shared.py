"""One model per process: workers share a loaded model, its calls queued by priority.

Workers take their model with `acquire_llm(settings, priority)`, which loads it once per
process (per `share_key`: model, context, threads, GPU layers) and hands each worker a
`SharedLLM` view; calls wait behind one `PriorityLock`, so when the model is busy the
on-air work (the writer, `ON_AIR`) goes before the background work (the summarizer,
`BACKGROUND`). A call that has started is not interrupted. While a show is written,
`keep_warm` keeps the background out between the writer's calls too: each of its calls
starts where the last left the model's KV cache (llama.cpp reuses the common prefix of the
chat), instead of evaluating the whole conversation again after a summary. `release_llm`
drops the model when the last worker lets go, so a worker run alone still loads, and frees,
its own.
A backend with `SHARED = False` (a server client) gives each worker its own client.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from radio.backends.llm.base import LLM
from radio.backends.llm.registry import backend_of

if TYPE_CHECKING:
    from radio.config import LLMSettings, SamplingSettings

log = logging.getLogger("radio.backends.llm")

ON_AIR, BACKGROUND = 0, 10  # priorities of the shared model's callers: lower goes first


class PriorityLock:
    """A thread lock whose waiters get it by priority (lower first), then in arrival order."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._held = False
        self._waiting: list[tuple[int, int]] = []
        self._order = itertools.count()
        self._reserved: list[int] = []  # priorities that keep less urgent callers out

    def _turn(self, ticket: tuple[int, int]) -> bool:
        return (not self._held and self._waiting[0] == ticket
                and ticket[0] <= min(self._reserved, default=ticket[0]))

    @contextlib.contextmanager
    def hold(self, priority: int) -> Iterator[None]:
        with self._cond:
            ticket = (priority, next(self._order))
            heapq.heappush(self._waiting, ticket)
            try:
                self._cond.wait_for(lambda: self._turn(ticket))
            except BaseException:  # interrupted while waiting: leave the queue
                self._waiting.remove(ticket)
                heapq.heapify(self._waiting)
                self._cond.notify_all()
                raise
            heapq.heappop(self._waiting)  # this ticket is the head
            self._held = True
        try:
            yield
        finally:
            with self._cond:
                self._held = False
                self._cond.notify_all()

    @contextlib.contextmanager
    def reserve(self, priority: int) -> Iterator[None]:
        """Between its holds too, callers less urgent than `priority` wait."""
        with self._cond:
            self._reserved.append(priority)
        try:
            yield
        finally:
            with self._cond:
                self._reserved.remove(priority)
                self._cond.notify_all()

    def waiting(self) -> list[int]:
        """The priorities waiting now, most urgent first."""
        with self._cond:
            return [p for p, _ in sorted(self._waiting)]


class SharedLLM:
    """A worker's view of the process's one model: its calls queue at `priority`."""

    def __init__(self, llm: LLM, lock: PriorityLock, priority: int, key: tuple) -> None:
        self.llm, self.lock, self.priority, self.key = llm, lock, priority, key
        self.name = llm.name
        self.n_ctx = llm.n_ctx

    def count_tokens(self, text: str) -> int:
        return self.llm.count_tokens(text)

    def chat(self, messages: list[dict[str, str]], *, sampling: SamplingSettings,
             schema: dict | None = None) -> str:
        with self.lock.hold(self.priority):
            return self.llm.chat(messages, sampling=sampling, schema=schema)

    def close(self) -> None:
        release_llm(self)


def keep_warm(llm: LLM | None) -> contextlib.AbstractContextManager[None]:
    """For a run of calls that build on each other (a show): less urgent workers sharing
    the model wait until it ends, so the model's cache holds this run's conversation."""
    if isinstance(llm, SharedLLM):
        return llm.lock.reserve(llm.priority)
    return contextlib.nullcontext()


@dataclass
class _Loaded:
    llm: LLM
    lock: PriorityLock
    users: int = 0


_loaded: dict[tuple, _Loaded] = {}
_loaded_lock = threading.Lock()


def acquire_llm(settings: LLMSettings, priority: int = BACKGROUND) -> LLM:
    """This process's model for these settings, loaded on first use, as a view whose calls
    wait at `priority`; a backend that is not shared gives its own client."""
    backend = backend_of(settings)
    if not backend.SHARED:
        return backend.load(settings)
    key = (settings.backend, *backend.share_key(settings))
    with _loaded_lock:  # held while loading: a second worker waits for the first's model
        loaded = _loaded.get(key)
        if loaded is None:
            loaded = _loaded[key] = _Loaded(backend.load(settings), PriorityLock())
            log.info("%s loaded for this process (one copy, shared by its workers)",
                     loaded.llm.name)
        loaded.users += 1
        return SharedLLM(loaded.llm, loaded.lock, priority, key)


def release_llm(llm: LLM | None) -> None:
    """Let go of a model from `acquire_llm`; the last user's release drops it (views other
    workers still hold keep it alive until they let go too)."""
    if llm is None:
        return
    if not isinstance(llm, SharedLLM):
        llm.close()
        return
    with _loaded_lock:
        loaded = _loaded.get(llm.key)
        if loaded is None or loaded.llm is not llm.llm:
            return
        loaded.users -= 1
        if loaded.users <= 0:
            del _loaded[llm.key]
