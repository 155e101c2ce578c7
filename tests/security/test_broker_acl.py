"""The production broker (config/mosquitto/) refuses strangers and keeps each worker to
its own topics: checked against a real mosquitto with the users of mqtt-passwords.sh."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import aiomqtt
import pytest

from radio import workers
from radio.messages import WORK_TOPICS, OnAirNow, QueryReply, ScheduleChanged
from tests.security.broker import ProductionBroker, password

PREFIX = "radio"
# Every topic a worker could be tempted to write: the work topics, the state topics and
# another worker's status and commands.
ALL_TOPICS = sorted({m.TOPIC for m in WORK_TOPICS} | {OnAirNow.TOPIC, ScheduleChanged.TOPIC,
                                                      QueryReply.TOPIC.format(token="t1")})


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProductionBroker]:
    found = ProductionBroker(tmp_path_factory.mktemp("prod-mosquitto")).start()
    try:
        yield found
    finally:
        found.stop()


def client(broker: ProductionBroker, user: str | None, pw: str | None = None) -> aiomqtt.Client:
    return aiomqtt.Client("127.0.0.1", broker.port, username=user,
                          password=pw if pw is not None else (password(user) if user else None),
                          identifier=f"acl-test-{user}-{id(broker)}",
                          protocol=aiomqtt.ProtocolVersion.V5, timeout=5)


async def collect(sub: aiomqtt.Client, seconds: float) -> list[tuple[str, bytes]]:
    got: list[tuple[str, bytes]] = []
    try:
        async with asyncio.timeout(seconds):
            async for message in sub.messages:
                got.append((message.topic.value, bytes(message.payload or b"")))
    except TimeoutError:
        pass
    return got


@pytest.fixture(scope="module")
def produced() -> dict[str, set[str]]:
    """What each worker's code publishes (its `produces`), relative to the prefix."""
    found = {name: {m.TOPIC for m in workers.load(name).produces} for name in workers.WORKERS}
    found["embeddings"].add(QueryReply.TOPIC.format(token="t1"))  # search answers
    return found


@pytest.mark.parametrize("user, pw", [(None, None), ("pdf", "wrong"), ("nobody", "x")])
async def test_anonymous_and_wrong_passwords_are_refused(broker: ProductionBroker,
                                                         user: str | None, pw: str | None
                                                         ) -> None:
    with pytest.raises(aiomqtt.MqttError, match=r"[Nn]ot authorized|[Bb]ad user"):
        async with client(broker, user, pw):
            pass


@pytest.mark.slow
async def test_each_worker_publishes_its_own_topics_only(
        broker: ProductionBroker, produced: dict[str, set[str]]) -> None:
    async with client(broker, "admin") as observer:
        await observer.subscribe(f"{PREFIX}/#", qos=1)
        for name in workers.WORKERS:
            async with client(broker, name) as worker:
                own_status = f"status/{name}/acl"
                for topic in [*ALL_TOPICS, own_status, "status/other/acl", "errors",
                              f"commands/{name}"]:
                    await worker.publish(f"{PREFIX}/{topic}", f"{name}>{topic}".encode(), qos=1)
        seen = {payload.decode() for _, payload in await collect(observer, 2.0)}
    for name in workers.WORKERS:
        allowed = produced[name] | {f"status/{name}/acl", "errors"}
        got = {p.split(">", 1)[1] for p in seen if p.startswith(f"{name}>")}
        assert got == allowed, name  # its own topics arrive; nothing else does


async def test_a_worker_cannot_read_another_workers_commands(broker: ProductionBroker) -> None:
    async with client(broker, "fetcher") as fetcher, client(broker, "pdf") as pdf, \
            client(broker, "admin") as admin:
        await fetcher.subscribe(f"{PREFIX}/commands/#", qos=1)
        await fetcher.subscribe(f"{PREFIX}/commands/pdf", qos=1)
        await fetcher.subscribe(f"{PREFIX}/#", qos=1)
        await pdf.subscribe(f"{PREFIX}/commands/pdf", qos=1)
        await admin.publish(f"{PREFIX}/commands/pdf", b"skip-secret-command", qos=1)
        await admin.publish(f"{PREFIX}/commands/fetcher", b"for-the-fetcher", qos=1)
        pdf_got, fetcher_got = await asyncio.gather(collect(pdf, 1.5), collect(fetcher, 1.5))
    assert [p for _, p in pdf_got] == [b"skip-secret-command"]  # the owner reads it
    # Only its own (once per matching subscription: three filters overlap here).
    assert {p for _, p in fetcher_got} == {b"for-the-fetcher"}


async def test_a_worker_cannot_fake_another_workers_status_or_will(
        broker: ProductionBroker) -> None:
    async with client(broker, "admin") as observer:
        await observer.subscribe(f"{PREFIX}/status/#", qos=1)
        async with client(broker, "obs") as obs:
            await obs.publish(f"{PREFIX}/status/playout/main", b"offline", qos=1, retain=True)
            await obs.publish(f"{PREFIX}/status/obs/main", b"online", qos=1)
        got = await collect(observer, 1.5)
    assert got == [(f"{PREFIX}/status/obs/main", b"online")]


@pytest.mark.slow
async def test_an_oversized_packet_is_refused_by_the_broker(broker: ProductionBroker) -> None:
    oversize = b"x" * (2 << 20)  # over the conf's max_packet_size of 1 MiB
    async with client(broker, "admin") as observer:
        await observer.subscribe(f"{PREFIX}/papers/fetched", qos=1)
        with pytest.raises(aiomqtt.MqttError):
            async with client(broker, "fetcher") as fetcher:
                await fetcher.publish(f"{PREFIX}/papers/fetched", oversize, qos=1)
                await asyncio.sleep(1)
                await fetcher.publish(f"{PREFIX}/papers/fetched", b"after", qos=1)
        assert await collect(observer, 1.0) == []
