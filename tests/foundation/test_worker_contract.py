"""What the runtime holds a worker to, without a broker: it publishes only what it declares,
handles a duplicate once, hands followed state to on_state (through
tests/support/inmemory.run_handler), and builds its last will when it connects."""

from __future__ import annotations

from pathlib import Path

import pytest

from radio.bus import Subscription
from radio.messages import ErrorReport, Message, OnAirNow, ShowRequested, ShowWritten, WorkerStatus
from radio.worker import Context
from tests.support.inmemory import only, run_handler
from tests.support.relay import RelayWorker
from tests.support.settings import make_settings


async def test_a_worker_cannot_publish_what_it_does_not_declare(tmp_path: Path) -> None:
    ctx = Context.from_settings(make_settings(tmp_path / "data"))
    relay = RelayWorker(ctx, instance="contract")
    undeclared = ShowRequested(show_id="daily-2026-12-07", kind="daily", date="2026-12-07",
                               length_s=60)
    with pytest.raises(TypeError, match="ShowRequested, which is not among its produces"):
        await relay.publish(undeclared)
    assert ShowWritten in relay.produces
    ctx.store.close()


class LeakyRelay(RelayWorker):
    """Publishes what it consumes: not among its produces."""

    name = "leaky"

    async def handle(self, message: ShowRequested) -> None:
        await self.publish(message)


def request(n: int) -> ShowRequested:
    return ShowRequested(show_id=f"test-{n:04d}", kind="latest", date="2026-11-21", length_s=60)


async def test_run_handler_handles_a_duplicate_once(tmp_path: Path) -> None:
    ctx = Context.from_settings(make_settings(tmp_path / "data"))
    relay = RelayWorker(ctx, instance="inmemory")
    again = ShowRequested.model_validate(request(1).model_dump())  # a redelivered copy
    published = await run_handler(relay, [request(1), again, request(2)])
    assert [m.show_id for m in only(ShowWritten, published)] == ["test-0001", "test-0002"]
    assert await run_handler(relay, [request(2)]) == []  # the inbox remembers across calls
    assert (ctx.data.root / "handled.txt").read_text().split() == ["test-0001", "test-0002"]
    assert relay.handled == 2
    ctx.store.close()


async def test_run_handler_refuses_what_a_worker_does_not_produce(tmp_path: Path) -> None:
    cfg = make_settings(tmp_path / "data")
    cfg.bus.max_attempts = 1  # no retry waits: a TypeError is not worth a second try anyway
    ctx = Context.from_settings(cfg)
    leaky = LeakyRelay(ctx, instance="inmemory")
    bad_payload = (ShowRequested.TOPIC, b'{"show_id": 42}')
    published = await run_handler(leaky, [request(3), bad_payload])
    assert only(ShowRequested, published) == []
    # The bad payload is refused on arrival, before the queue is handled.
    bad, refused = only(ErrorReport, published)
    assert (bad.key, bad.worker) == (None, "leaky") and bad.reason.startswith("bad payload")
    assert (refused.key, refused.worker) == ("test-0003", "leaky")
    assert "ShowRequested, which is not among its produces" in refused.reason
    assert leaky.failed == 2 and leaky.handled == 0
    ctx.store.close()


class Follower(RelayWorker):
    """Follows the on-air state; its status detail is set after the base class."""

    name = "follower"
    follows = (OnAirNow,)

    def __init__(self, ctx: Context, instance: str | None = None) -> None:
        super().__init__(ctx, instance)
        self.states: list[Message] = []

    async def on_state(self, message: Message) -> None:
        self.states.append(message)

    def status_detail(self) -> dict:
        return {"states": len(self.states)}


async def test_followed_state_reaches_on_state_past_the_inbox(tmp_path: Path) -> None:
    ctx = Context.from_settings(make_settings(tmp_path / "data"))
    follower = Follower(ctx, instance="inmemory")
    assert Subscription(OnAirNow.TOPIC, qos=0, shared=False) in follower.bus.subscriptions
    idle = OnAirNow(mode="idle")
    bad = (OnAirNow.TOPIC, b'{"mode": "nonsense"}')
    published = await run_handler(follower, [idle, idle, bad])
    assert follower.states == [idle, idle]  # state, not work: no dedupe, latest wins
    (error,) = only(ErrorReport, published)
    assert error.topic == OnAirNow.TOPIC and "mode" in error.reason
    assert ctx.store.inbox_received("follower", OnAirNow.TOPIC, "2000") == []
    # The last will is built at connect: it sees what the subclass set after __init__.
    assert follower.bus.will is not None
    topic, payload = follower.bus.will()
    will = WorkerStatus.from_json(payload)
    assert topic == "status/follower/inmemory"
    assert (will.state, will.detail["states"]) == ("offline", 2)
    ctx.store.close()
