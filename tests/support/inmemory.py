"""A worker's handler without a broker: an in-memory bus and `run_handler` (after Pipecat's
`run_test`: frames in, the frames it pushed out back).

`run_handler(worker, messages)` puts the worker on an `InMemoryBus`, runs its `setup` once,
hands each message to the runtime's own receive path (payload limit, parsing, the inbox
that drops a duplicate, the priority queue), then handles the queue as the handler loop
does (retries, `Deferred`, a failure recorded and reported) and returns what the worker
published meanwhile, in order and parsed: what it `produces` (through `Worker.publish`,
which refuses anything else) and its `ErrorReport`s. No heartbeat, lease renewal or
`background()` runs; the broker tests (tests/foundation/test_bus.py) cover those.

Use it with a real store, e.g. `Context.from_settings(make_settings(tmp_path / "data"))`
(SQLite under tmp_path; tests/support/settings.py), and close `ctx.store` after.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TypeVar

from radio.bus import Bus, MessageHandler
from radio.messages import ALL_MESSAGES, Message, parse
from radio.worker import Worker

M = TypeVar("M", bound=Message)
Raw = tuple[str, bytes]  # (topic, payload): what a broker would deliver, bad or not


class InMemoryBus(Bus):
    """A bus with no broker: always connected; what is published is kept, in order."""

    def __init__(self, like: Bus) -> None:
        super().__init__(like.settings, like.client_id, will=like.will,
                         subscriptions=like.subscriptions, share_group=like.share_group,
                         persistent=like.persistent)
        self.on_connect = like.on_connect
        self.published: list[tuple[str, bytes, bool]] = []  # (topic, payload, retain)
        self.connected.set()

    async def run(self, on_message: MessageHandler) -> None:
        raise NotImplementedError("no connection in memory: run_handler drives the worker")

    async def publish(self, topic: str, payload: bytes, *, qos: int = 1,
                      retain: bool = False) -> None:
        self.published.append((topic, payload, retain))


async def run_handler(worker: Worker, messages: Iterable[Message | Raw]) -> list[Message]:
    """Deliver `messages` to `worker` as the bus would; return what it published."""
    if not isinstance(worker.bus, InMemoryBus):
        worker.bus = InMemoryBus(worker.bus)
    bus = worker.bus
    start = len(bus.published)
    if not worker.ready.is_set():
        await worker.setup()
        worker.ready.set()
    for message in messages:
        topic, payload = message if isinstance(message, tuple) else (message.TOPIC,
                                                                     message.to_json())
        await worker._receive(topic, payload, False)
    while worker._queue.qsize():
        topic, payload = await worker._queue.get()
        await worker._handle_one(topic, payload)
    return [_parse(topic, payload) for topic, payload, _ in bus.published[start:]]


def only(model: type[M], published: Iterable[Message]) -> list[M]:
    """The messages of one model, in order."""
    return [m for m in published if isinstance(m, model)]


def _parse(topic: str, payload: bytes) -> Message:
    for model in ALL_MESSAGES:  # `status/{worker}` matches status/<worker>/<instance>
        if re.fullmatch(re.sub(r"\\\{\w+\\\}", ".+", re.escape(model.TOPIC)), topic):
            return parse(model, payload)
    raise ValueError(f"published on {topic}, which no message model has")
