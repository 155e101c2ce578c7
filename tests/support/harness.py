"""Run workers in-process and watch the bus, for tests."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator, Callable
from typing import TypeVar

import aiomqtt

from radio import workers
from radio.bus import Bus
from radio.config import Settings
from radio.messages import Message
from radio.worker import Context, Worker

M = TypeVar("M", bound=Message)


@contextlib.asynccontextmanager
async def running_worker(worker: str | type[Worker], settings: Settings,
                         instance: str | None = None, connect_timeout: float = 180.0,
                         ) -> AsyncIterator[Worker]:
    """Run a worker in this event loop until the block ends."""
    cls = workers.load(worker) if isinstance(worker, str) else worker
    ctx = Context.from_settings(settings)
    running = cls(ctx, instance)
    task = asyncio.create_task(running.run())
    try:
        waiter = asyncio.create_task(running.ready.wait())
        done, _ = await asyncio.wait({waiter, task}, timeout=connect_timeout,
                                     return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()  # setup failed: raise its error here
        if waiter not in done:
            raise TimeoutError(f"{running.name} not ready in {connect_timeout}s")
        await asyncio.wait_for(running.bus.connected.wait(), connect_timeout)
        yield running
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        ctx.store.close()


class BusProbe:
    """A test client on the bus: publish messages, wait for the ones that come out."""

    def __init__(self, settings: Settings, topics: list[str] | None = None) -> None:
        self.bus = Bus(settings, f"probe-{random.randrange(1 << 30)}", persistent=False)
        self.topics = topics or ["#"]
        self.received: list[tuple[str, bytes]] = []
        self._arrived = asyncio.Condition()
        self._client: aiomqtt.Client | None = None
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> BusProbe:
        self._client = aiomqtt.Client(**self.bus._client_kwargs())
        await self._client.__aenter__()
        for topic in self.topics:
            await self._client.subscribe(self.bus.topic(topic), qos=1)
        self._task = asyncio.create_task(self._collect())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._client:
            with contextlib.suppress(Exception):
                await self._client.__aexit__(None, None, None)

    async def _collect(self) -> None:
        assert self._client is not None
        async for message in self._client.messages:
            async with self._arrived:
                self.received.append((self.bus.relative(message.topic.value),
                                      bytes(message.payload or b"")))
                self._arrived.notify_all()

    async def publish(self, message: Message, *, retain: bool = False) -> None:
        await self.publish_raw(message.TOPIC, message.to_json(), retain=retain)

    async def publish_raw(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        assert self._client is not None
        await self._client.publish(self.bus.topic(topic), payload, qos=1, retain=retain)

    def messages(self, model: type[M], topic: str | None = None) -> list[M]:
        topic = topic or model.TOPIC
        return [model.from_json(p) for t, p in self.received if t == topic]

    async def expect(self, model: type[M], *, timeout: float = 30.0, topic: str | None = None,
                     where: Callable[[M], bool] | None = None, count: int = 1) -> M:
        """Wait for `count` matching messages; return the last of them."""
        def matches() -> list[M]:
            found = self.messages(model, topic)
            return [m for m in found if where is None or where(m)]

        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: len(matches()) >= count)
        return matches()[count - 1]
