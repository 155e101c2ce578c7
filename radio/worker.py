"""The worker runtime: subscribe, decode, deduplicate, handle, report.

A worker subclasses `Worker`, declares what it `consumes` and `produces`, and writes
one `handle(message)`. The runtime does the rest:

- every received message is validated against its topic's model; a bad payload goes
  to `errors` with the reason and the worker carries on;
- every valid message is written to the store's inbox first, so a redelivered message
  is recognised and skipped, and one left half-done by a crash is handled at restart;
  the row is this instance's while its lease runs (renewed every heartbeat): a duplicate
  reaching another instance is dropped, and a dead instance's pending work is taken over
  by a live one once the lease has run out;
- a handler that raises is retried (up to `bus.max_attempts`), then the message is
  failed, recorded and reported on `errors`; `PermanentError` fails it at once;
- a retained `status/<worker>` heartbeat, with a last will that says `offline`;
- state a worker follows (`follows`: latest wins, such as `onair/now`) reaches
  `on_state` parsed, past the inbox and the queue; retained values arrive on subscribe;
- `background()` runs beside the handler for workers with a clock (fetcher, scheduler,
  playout); `commands/<worker>` reaches `on_command`;
- messages wait in a priority queue: `priority(message)` (lower first, then in order of
  arrival) lets a worker take urgent work first; a handler that raises `Deferred` puts its
  message back in the queue (still pending), behind anything more urgent.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import importlib
import itertools
import logging
import socket
import traceback
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Generic, TypeVar, cast

from radio import __version__, recovery, retry
from radio.artifacts import DataRoot
from radio.bus import Bus, Subscription
from radio.config import Settings
from radio.health import disk_refusal, process_stats, release_free_memory
from radio.messages import (
    Command,
    ErrorReport,
    Message,
    WorkerState,
    WorkerStatus,
    parse,
    topic_of,
)
from radio.store import Store

log = logging.getLogger(__name__)

# Messages carry paths, not artifacts: a few KiB. A larger payload is refused unread
# (the production broker refuses packets over 1 MiB too: config/mosquitto/).
MAX_PAYLOAD_BYTES = 256 * 1024


class PermanentError(Exception):
    """Bad input that no retry will fix (corrupt PDF, unknown id, ...)."""


class Deferred(Exception):
    """The handler stepped aside for more urgent work: queue the message again, untouched."""


class WorkQueue:
    """The worker's queue of (topic, payload): lowest priority number first, then FIFO.

    `best()` may be read from a handler's thread (a plain attribute read), so a long
    handler can ask whether more urgent work is waiting.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, str, bytes]] = []
        self._order = itertools.count()
        self._ready = asyncio.Event()
        self._best: int | None = None

    def put_nowait(self, item: tuple[str, bytes], priority: int = 0) -> None:
        heapq.heappush(self._heap, (priority, next(self._order), *item))
        self._best = self._heap[0][0]
        self._ready.set()

    async def put(self, item: tuple[str, bytes], priority: int = 0) -> None:
        self.put_nowait(item, priority)

    async def get(self) -> tuple[str, bytes]:
        while not self._heap:
            self._ready.clear()
            await self._ready.wait()
        _, _, topic, payload = heapq.heappop(self._heap)
        self._best = self._heap[0][0] if self._heap else None
        return topic, payload

    def qsize(self) -> int:
        return len(self._heap)

    def best(self) -> int | None:
        """The most urgent priority waiting, or None when nothing waits."""
        return self._best


@dataclass
class Context:
    settings: Settings
    store: Store
    data: DataRoot

    @classmethod
    def from_settings(cls, settings: Settings) -> Context:
        data = DataRoot(settings.data_dir)
        return cls(settings=settings, store=Store.open(settings), data=data)


M = TypeVar("M", bound=Message)  # what a worker's handle() takes: the union of its consumes


class Worker(Generic[M]):
    name: ClassVar[str]
    consumes: ClassVar[tuple[type[Message], ...]] = ()
    produces: ClassVar[tuple[type[Message], ...]] = ()
    # State, not work (latest wins): not shared, no inbox nor retries; see `on_state`.
    follows: ClassVar[tuple[type[Message], ...]] = ()
    # New work waits while the data root's disk is nearly full (False: the playout plays on).
    needs_disk: ClassVar[bool] = True
    # Heavy libraries the worker imports lazily from threads; see `preload`.
    preload: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def heavy_modules(cls, settings: Settings) -> tuple[str, ...]:
        """What `preload` imports for this worker as configured (by default `preload`)."""
        return cls.preload

    def __init__(self, ctx: Context, instance: str | None = None) -> None:
        self.ctx = ctx
        self.settings = ctx.settings
        self.store = ctx.store
        self.data = ctx.data
        self.instance = instance or socket.gethostname()
        self.log = logging.getLogger(f"radio.{self.name}")
        self.handled = 0
        self.failed = 0
        self.last_error: str | None = None
        self._queue = WorkQueue()
        self._by_topic = {model.TOPIC: model for model in self.consumes}
        self._followed = {model.TOPIC: model for model in self.follows}
        subs = tuple(Subscription(model.TOPIC) for model in self.consumes)
        # QoS 0: a state missed while away is not queued; its retained value comes anew.
        subs += tuple(Subscription(m.TOPIC, qos=0, shared=False) for m in self.follows)
        subs += (Subscription(topic_of(Command, worker=self.name), shared=False),)
        subs += recovery.subscriptions(self)
        # The will is built at each connect, so a subclass may set its attributes (read
        # by `status_detail`) after this __init__.
        self.bus = Bus(
            ctx.settings, f"{ctx.settings.bus.topic_prefix}-{self.name}-{self.instance}",
            will=lambda: (self.status_topic, self._status("offline").to_json()),
            subscriptions=subs, share_group=self.name,
        )
        self.bus.on_connect = self._on_connect
        self.ready = asyncio.Event()
        self._announcing: set[asyncio.Future] = set()

    # --- what a worker overrides ---------------------------------------------------------

    async def setup(self) -> None:
        """Load models, open files; runs once before the first message."""

    async def handle(self, message: M) -> None:
        raise NotImplementedError(f"{self.name} does not handle {type(message).__name__}")

    async def background(self) -> None:
        """A loop that runs beside the handler (a clock, a poller); return when done."""

    def priority(self, message: M) -> int:
        """Lower is more urgent; equal priorities keep their order of arrival."""
        return 0

    def pending(self, topic: str, since: str) -> list[Message]:
        """What this worker made for `topic` since `since` (ISO time) that may not have
        reached its consumers, rebuilt from the store with the ids it had: announced again
        when a consumer (re)subscribes (radio/recovery.py). Runs in a thread, after setup."""
        return []

    async def on_state(self, message: Message) -> None:
        """The latest value of a topic in `follows` (retained ones included)."""

    async def on_command(self, command: Command) -> None:
        self.log.warning("%s: unknown command %r", self.name, command.action)

    async def teardown(self) -> None:
        """Release what setup took."""

    def status_detail(self) -> dict:
        return {}

    # --- what a worker calls -------------------------------------------------------------

    async def publish(self, message: Message, *, retain: bool = False) -> None:
        """Publish one of `produces` (the ACLs and the re-announce are built from it)."""
        if type(message) not in self.produces:
            raise TypeError(f"{self.name} publishes {type(message).__name__}, which is not "
                            f"among its produces")
        await self.bus.publish(message.TOPIC, message.to_json(), qos=1, retain=retain)

    async def report_error(self, topic: str, key: str | None, reason: str,
                           detail: str = "") -> None:
        self.last_error = reason[:300]
        self.store.record_failure(self.name, topic, key, reason, detail)
        report = ErrorReport(worker=self.name, topic=topic, key=key, reason=reason,
                             detail=detail[-4000:])
        await self.bus.publish(report.TOPIC, report.to_json(), qos=1)  # every worker's

    def waiting_before(self, priority: int) -> bool:
        """Whether a message more urgent than `priority` waits in the queue (any thread)."""
        best = self._queue.best()
        return best is not None and best < priority

    def received(self, model: type[Message], since: datetime) -> list[bytes]:
        """Payloads of `model` this worker received since `since`, oldest first (from the
        runtime's inbox, which stays private to the runtime)."""
        return self.store.inbox_received(self.name, model.TOPIC,
                                         since.isoformat(timespec="milliseconds"))

    # --- runtime -------------------------------------------------------------------------

    @property
    def status_topic(self) -> str:
        return topic_of(WorkerStatus, worker=self.name) + f"/{self.instance}"

    def _status(self, state: WorkerState) -> WorkerStatus:
        return WorkerStatus(
            worker=self.name, instance=self.instance, state=state, version=__version__,
            backlog=self.store.backlog(self.name) + self._queue.qsize(),
            handled=self.handled, failed=self.failed, last_error=self.last_error,
            detail={**self.status_detail(), "process": process_stats()},
        )

    async def publish_status(self, state: WorkerState | None = None) -> None:
        if state is None:
            state = "online" if self.ready.is_set() else "starting"
        await self.bus.publish(self.status_topic, self._status(state).to_json(), retain=True)

    async def run(self) -> None:
        """Run until cancelled; leaves an `offline` status behind."""
        # A writer killed mid-write left a temp file behind: gone before anything else.
        for path in await asyncio.to_thread(recovery.clean_temporaries, self.data.root):
            self.log.info("removed %s, left by a stopped process", path)
        # Connect first, so the station sees `starting` while models load.
        bus = asyncio.create_task(self.bus.run(self._receive), name=f"{self.name}-bus")
        tasks = [asyncio.create_task(self._heartbeat(), name=f"{self.name}-heartbeat")]
        try:
            await self.setup()
            self.ready.set()
            await self.publish_status()
            tasks += [
                asyncio.create_task(self._handle_loop(), name=f"{self.name}-handler"),
                asyncio.create_task(self._keep_leases(), name=f"{self.name}-leases"),
                asyncio.create_task(self.background(), name=f"{self.name}-background"),
            ]
            # Shielded: a stop cancels the rest, but the connection stays up to say `offline`
            # (a clean disconnect suppresses the last will).
            await asyncio.gather(asyncio.shield(bus), *tasks)
        except Exception as exc:
            self.last_error = f"crashed: {type(exc).__name__}: {exc}"[:300]
            raise
        finally:
            for task in tasks:
                task.cancel()
            await self._say_offline()
            bus.cancel()
            # A restarted worker reuses the client id: let this connection close first.
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await bus
            await self.teardown()

    async def _say_offline(self) -> None:
        """Publish `offline` on a clean stop (the last will covers unclean ones)."""
        if not self.bus.connected.is_set():
            return
        try:
            async with asyncio.timeout(2):
                await self.bus.publish(self.status_topic, self._status("offline").to_json(),
                                       retain=True)
        except Exception as exc:  # a clean stop must not hang on the broker (timeout included)
            self.log.debug("offline status not sent: %s", exc)

    async def _on_connect(self) -> None:
        """(Re)subscribed: say so, ask for missed work, announce unfinished work."""
        await self.publish_status()
        await recovery.on_connect(self)

    async def _heartbeat(self) -> None:
        while True:
            await self.bus.connected.wait()
            await self.publish_status()
            release_free_memory()
            await asyncio.sleep(self.settings.bus.heartbeat_s)

    @property
    def lease_s(self) -> float:
        """How long this instance's inbox rows stay its own without a renewal."""
        return max(3 * self.settings.bus.heartbeat_s, 5.0)

    async def _keep_leases(self) -> None:
        """Renew this instance's inbox leases; take over pending work of dead instances."""
        while True:
            await asyncio.sleep(self.settings.bus.heartbeat_s)
            try:
                await asyncio.to_thread(self.store.inbox_renew, self.name, self.instance,
                                        self.lease_s)
                orphans = await asyncio.to_thread(self.store.inbox_take_over, self.name,
                                                  self.instance, self.lease_s)
            except Exception as exc:  # the database is away: try again at the next beat
                self.log.warning("inbox leases not renewed: %s", exc)
                continue
            for row in orphans:
                self.log.info("took over %s %s from a lapsed instance", row["topic"],
                              row["msg_id"])
                await self._requeue(row["topic"], row["payload"])

    async def _receive(self, topic: str, payload: bytes, retained: bool) -> None:
        if len(payload) > MAX_PAYLOAD_BYTES:  # never parsed nor stored: memory and disk
            self.failed += 1
            await self.report_error(topic, None, f"bad payload: {len(payload)} bytes, more "
                                    f"than the limit of {MAX_PAYLOAD_BYTES}")
            return
        if topic == topic_of(Command, worker=self.name):
            if not retained:
                await self._command(payload)
            return
        if topic.startswith(recovery.WANTED_PREFIX):
            await recovery.on_wanted(self, payload)
            return
        if topic in self._followed:
            await self._receive_state(self._followed[topic], topic, payload)
            return
        model = self._by_topic.get(topic)
        if model is None:
            return
        try:
            message = self._parse(model, payload)
        except ValueError as exc:
            self.failed += 1
            await self.report_error(topic, None, f"bad payload: {exc}"[:1000],
                                    payload[:500].decode("utf-8", "replace"))
            return
        if self.store.inbox_receive(self.name, message.id, topic, payload,
                                    owner=self.instance, lease_s=self.lease_s):
            await self._queue.put((topic, payload), self.priority(message))
        else:
            self.log.debug("duplicate %s %s skipped", topic, message.id)

    async def _receive_state(self, model: type[Message], topic: str, payload: bytes) -> None:
        try:
            message = parse(model, payload)
        except ValueError as exc:
            await self.report_error(topic, None, str(exc)[:1000],
                                    payload[:500].decode("utf-8", "replace"))
            return
        await self.on_state(message)

    async def _command(self, payload: bytes) -> None:
        try:
            command = parse(Command, payload)
        except ValueError as exc:
            await self.report_error(topic_of(Command, worker=self.name), None, str(exc))
            return
        if command.action == "requeue":
            count = self.store.inbox_requeue(self.name, command.args.get("id"),
                                             owner=self.instance, lease_s=self.lease_s)
            self.log.info("requeued %d failed messages", count)
            for row in self.store.inbox_pending(self.name, self.instance):
                await self._requeue(row["topic"], row["payload"])
            return
        await self.on_command(command)

    async def _handle_loop(self) -> None:
        # Work left pending by a crash or a stop comes first (this instance's, and any whose
        # owner's lease has run out).
        for row in self.store.inbox_take_over(self.name, self.instance, self.lease_s, own=True):
            await self._requeue(row["topic"], row["payload"])
        while True:
            topic, payload = await self._queue.get()
            await self._handle_one(topic, payload)

    def _parse(self, model: type[Message], payload: bytes) -> M:
        """One of `consumes`, which together make M."""
        return cast(M, parse(model, payload))

    async def _requeue(self, topic: str, payload: bytes) -> None:
        model = self._by_topic.get(topic)
        if model is None:
            return
        try:
            priority = self.priority(self._parse(model, payload))
        except ValueError:
            priority = 0  # `_handle_one` meets the bad payload and reports it
        await self._queue.put((topic, payload), priority)

    async def _wait_for_disk(self) -> None:
        """Hold new work (still pending in the inbox) while the disk is nearly full."""
        refused = None
        while self.needs_disk and (why := await asyncio.to_thread(
                disk_refusal, self.data.root, self.settings.disk)):
            if refused is None:  # said once, not at every look
                self.log.error("%s", why)
                await self.report_error("disk", None, why)
                await self.publish_status()
            refused = why
            await asyncio.sleep(self.settings.disk.check_s)
        if refused is not None:
            self.log.info("disk has room again: back to work")
            if self.last_error == refused[:300]:
                self.last_error = None
            await self.publish_status()

    async def _handle_one(self, topic: str, payload: bytes) -> None:
        await self._wait_for_disk()
        message = self._parse(self._by_topic[topic], payload)
        # The queue can hold a message twice: received during setup and found pending by
        # `_handle_loop`, or queued again by a requeue. The inbox says if it is still to do.
        if not self.store.inbox_is_pending(self.name, message.id, self.instance):
            return  # done, or taken over by another instance while this one lagged
        try:
            await self._attempts(topic, message)
        except Deferred as why:
            self.log.info("%s %s deferred: %s", topic, message.id, why)
            await self._queue.put((topic, payload), self.priority(message))
        except Exception as exc:  # the last attempt, or a permanent failure
            self.failed += 1
            reason = f"{type(exc).__name__}: {exc}"
            self.store.inbox_finish(self.name, message.id, error=reason)
            await self.report_error(topic, _key_of(message), reason, traceback.format_exc())
        else:
            self.handled += 1
            self.store.inbox_finish(self.name, message.id)
        # A cancel (a stop) leaves the message pending: handled again at restart.

    async def _attempts(self, topic: str, message: M) -> None:
        """`handle`, retried up to `bus.max_attempts` times, 2 s, 4 s, ... (at most 30 s)
        apart; the last failure, a permanent one or a `Deferred` is raised."""
        async for attempt in retry.attempts(self.settings.bus.max_attempts,
                                            retry.Backoff(2.0, 30.0), retry_if=_retryable):
            with attempt:
                try:
                    await self.handle(message)
                except Deferred:
                    raise
                except Exception as exc:
                    self.log.warning("%s %s attempt %d failed: %s: %s", topic, message.id,
                                     attempt.retry_state.attempt_number,
                                     type(exc).__name__, exc)
                    raise


def preload(workers: Iterable[type[Worker]], settings: Settings) -> None:
    """Import the workers' heavy libraries one after another, in this one thread.

    Workers import them lazily from threads (asyncio.to_thread). Two threads importing
    overlapping module graphs at once can trip Python's import-deadlock detection, which
    hands one of them a half-initialised module: seen in `radio up` as "partially
    initialized module 'torch' has no attribute 'Tensor'" in playout while the embeddings
    worker was loading sentence-transformers.
    """
    for module in dict.fromkeys(name for worker in workers
                                for name in worker.heavy_modules(settings)):
        try:
            importlib.import_module(module)
        except Exception as exc:  # not fatal here: the worker that needs it will say so
            log.warning("preload of %s failed: %s", module, exc)


def _retryable(exc: Exception) -> bool:
    return not isinstance(exc, PermanentError | NotImplementedError | Deferred)


def _key_of(message: Message) -> str:
    for field in ("arxiv_id", "show_id"):
        value = getattr(message, field, None)
        if value:
            return str(value)
    return message.id
