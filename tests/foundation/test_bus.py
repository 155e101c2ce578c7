"""The bus with real brokers: mosquitto (MQTT v5, auth, persistence) and the embedded one.

Workers run as separate OS processes (`python -m radio worker ...`), as in production.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from radio.bus import Bus
from radio.config import Settings
from radio.messages import ErrorReport, ShowRequested, ShowWritten
from radio.worker import Context
from tests.support.harness import BusProbe, running_worker
from tests.support.mosquitto import Mosquitto
from tests.support.procs import radio, spawn, statuses, stop, wait_for
from tests.support.relay import RelayWorker
from tests.support.settings import make_settings

RELAY = "tests.support.relay:RelayWorker"
SINK = "tests.support.relay:SinkWorker"


def request(n: int) -> ShowRequested:
    return ShowRequested(show_id=f"test-{n:04d}", kind="latest", date="2026-11-21", length_s=60)


def handled(data_dir: Path) -> list[str]:
    trace = data_dir / "handled.txt"
    return trace.read_text().split() if trace.exists() else []


@pytest.fixture(params=["mosquitto", "embedded"])
async def any_broker(request: pytest.FixtureRequest, tmp_path: Path,
                     settings: Settings) -> AsyncIterator[Settings]:
    """The same tests against a real mosquitto and against the embedded broker."""
    if request.param == "embedded":
        yield settings
        return
    broker = Mosquitto(tmp_path / "mosquitto").start()
    try:
        yield make_settings(settings.data_dir, broker_url=SecretStr(broker.url))
    finally:
        broker.stop()


@pytest.fixture
def mosquitto_settings(mosquitto: Mosquitto, tmp_path: Path) -> Iterator[Settings]:
    yield make_settings(tmp_path / "data", broker_url=SecretStr(mosquitto.url))


@pytest.mark.slow
async def test_message_crosses_two_processes(any_broker: Settings, tmp_path: Path) -> None:
    relay = spawn(["worker", RELAY], any_broker, tmp_path / "relay.log")
    sink = spawn(["worker", SINK], any_broker, tmp_path / "sink.log")
    try:
        await asyncio.to_thread(wait_for, lambda: {"relay", "sink"} <= {
            s["worker"] for s in statuses(any_broker).values() if s["state"] == "online"},
            60, what="relay and sink online")
        async with BusProbe(any_broker, [ShowWritten.TOPIC]) as probe:
            for n in range(5):
                await probe.publish(request(n))
            await probe.expect(ShowWritten, count=5, timeout=30)
        await asyncio.to_thread(wait_for, lambda: len(handled(any_broker.data_dir)) >= 10, 30,
                                what="sink handled 5")
        trace = handled(any_broker.data_dir)
        assert sorted(trace) == sorted([f"test-{n:04d}" for n in range(5)] * 2)
    finally:
        await asyncio.to_thread(stop, relay)
        await asyncio.to_thread(stop, sink)


@pytest.mark.slow
async def test_killed_worker_goes_offline_through_its_will(any_broker: Settings,
                                                            tmp_path: Path) -> None:
    relay = spawn(["worker", RELAY, "--instance", "doomed"], any_broker, tmp_path / "relay.log")
    try:
        online = await asyncio.to_thread(
            wait_for, lambda: statuses(any_broker).get("relay/doomed", {}).get("state") == "online",
            60, what="relay online")
        assert online
        stop(relay, signal.SIGKILL)
        await asyncio.to_thread(
            wait_for, lambda: statuses(any_broker)["relay/doomed"]["state"] == "offline", 20,
            what="the last will")
    finally:
        await asyncio.to_thread(stop, relay)


@pytest.mark.slow
async def test_work_sent_while_a_worker_is_down_waits_for_it(any_broker: Settings,
                                                               tmp_path: Path) -> None:
    """A persistent session keeps QoS 1 work for a stopped worker until it is back."""
    def online() -> bool:
        return statuses(any_broker).get("relay/solo", {}).get("state") == "online"

    args = ["worker", RELAY, "--instance", "solo"]
    relay = spawn(args, any_broker, tmp_path / "relay1.log")
    await asyncio.to_thread(wait_for, online, 60, what="relay online")
    await asyncio.to_thread(stop, relay)
    async with BusProbe(any_broker, [ShowWritten.TOPIC]) as probe:
        for n in range(5):
            await probe.publish(request(n))
        relay = spawn(args, any_broker, tmp_path / "relay2.log")
        try:
            await probe.expect(ShowWritten, count=5, timeout=60)
        finally:
            await asyncio.to_thread(stop, relay)
        written = probe.messages(ShowWritten)
    expected = [f"test-{n:04d}" for n in range(5)]
    assert sorted(m.show_id for m in written) == expected
    assert sorted(handled(any_broker.data_dir)) == expected  # each handled once


async def test_malformed_payload_lands_on_errors_and_worker_goes_on(any_broker: Settings) -> None:
    async with running_worker(RelayWorker, any_broker), \
            BusProbe(any_broker, [ErrorReport.TOPIC, ShowWritten.TOPIC]) as probe:
        await probe.publish_raw(ShowRequested.TOPIC, b'{"show_id": 42, "nonsense": true}')
        error = await probe.expect(ErrorReport, timeout=15)
        assert error.worker == "relay" and "bad payload" in error.reason
        assert "show_id" in error.reason  # the reason names the bad field
        await probe.publish(request(1))
        written = await probe.expect(ShowWritten, timeout=15)
        assert written.show_id == "test-0001"


@pytest.mark.slow
async def test_crashed_worker_is_restarted_and_works(settings: Settings, tmp_path: Path) -> None:
    log = tmp_path / "crashonce.log"
    worker = spawn(["worker", "tests.support.relay:CrashOnceRelay"], settings, log)
    try:
        await asyncio.to_thread(wait_for, lambda: any(
            s["worker"] == "crashonce" and s["state"] == "online"
            for s in statuses(settings).values()), 60, what="crashonce back online")
        assert worker.poll() is None, "the process must survive its worker's crash"
        assert "simulated crash at start" in log.read_text()
        async with BusProbe(settings, [ShowWritten.TOPIC]) as probe:
            await probe.publish(request(3))
            written = await probe.expect(ShowWritten, timeout=20)
        assert written.show_id == "test-0003"
    finally:
        await asyncio.to_thread(stop, worker)


async def test_redelivered_message_is_handled_once(settings: Settings) -> None:
    async with running_worker(RelayWorker, settings), \
            BusProbe(settings, [ShowWritten.TOPIC]) as probe:
        for _ in range(3):
            await probe.publish(request(7))
        await probe.publish(request(8))
        await probe.expect(ShowWritten, where=lambda m: m.show_id == "test-0008")
    assert handled(settings.data_dir) == ["test-0007", "test-0008"]


@pytest.mark.slow
async def test_two_instances_split_the_work(mosquitto_settings: Settings, tmp_path: Path) -> None:
    # Separate data dirs, so neither instance's inbox can hide a double delivery.
    dirs = [tmp_path / "a", tmp_path / "b"]
    procs = [spawn(["worker", RELAY, "--instance", f"i{i}"],
                   mosquitto_settings.model_copy(update={"data_dir": d}), tmp_path / f"{i}.log")
             for i, d in enumerate(dirs)]
    try:
        await asyncio.to_thread(wait_for, lambda: sum(
            s["state"] == "online" for s in statuses(mosquitto_settings).values()) == 2,
            60, what="two relays online")
        async with BusProbe(mosquitto_settings, [ShowWritten.TOPIC]) as probe:
            for n in range(40):
                await probe.publish(request(n))
            await probe.expect(ShowWritten, count=40, timeout=60)
        a, b = handled(dirs[0]), handled(dirs[1])
        assert sorted(a + b) == [f"test-{n:04d}" for n in range(40)]  # none lost, none twice
        assert a and b, "both instances took a share"
    finally:
        for proc in procs:
            await asyncio.to_thread(stop, proc)


@pytest.mark.slow
async def test_broker_restart_loses_no_qos1_message(mosquitto: Mosquitto, tmp_path: Path) -> None:
    # Plain subscriptions: mosquitto 2.0.11 restores them (and their queued messages) from
    # persistence, but not shared ones (see BusSettings.shared_subscriptions).
    cfg = make_settings(tmp_path / "data", broker_url=SecretStr(mosquitto.url))
    cfg.bus.shared_subscriptions = False
    relay = spawn(["worker", RELAY], cfg, tmp_path / "relay.log", RELAY_DELAY_S="0.05",
                  RADIO_BUS__SHARED_SUBSCRIPTIONS="false")
    publisher = Bus(cfg, "restart-publisher")
    bus_task = asyncio.create_task(publisher.run(lambda *_: asyncio.sleep(0)))
    try:
        await asyncio.to_thread(wait_for, lambda: any(
            s["state"] == "online" for s in statuses(cfg).values()), 60, what="relay online")
        for n in range(60):
            if n == 20:
                await asyncio.to_thread(mosquitto.restart)
            await publisher.publish(request(n).TOPIC, request(n).to_json())
        await asyncio.to_thread(wait_for, lambda: len(set(handled(cfg.data_dir))) == 60, 60,
                                what="all 60 handled")
        assert sorted(set(handled(cfg.data_dir))) == [f"test-{n:04d}" for n in range(60)]
        assert len(handled(cfg.data_dir)) == 60  # and none twice
    finally:
        bus_task.cancel()
        await asyncio.to_thread(stop, relay)


async def test_requeue_from_the_cli_retries_failed_work(settings: Settings) -> None:
    failed = request(9)
    ctx_store = Context.from_settings(settings).store
    ctx_store.inbox_receive("relay", failed.id, failed.TOPIC, failed.to_json())
    ctx_store.inbox_finish("relay", failed.id, error="earlier failure")
    ctx_store.close()
    async with running_worker(RelayWorker, settings), \
            BusProbe(settings, [ShowWritten.TOPIC]) as probe:
        await asyncio.sleep(0.5)
        assert handled(settings.data_dir) == []  # failed work is not retried by itself
        done = await asyncio.to_thread(radio, ["requeue", RELAY], settings)
        assert done.returncode == 0, done.stderr
        written = await probe.expect(ShowWritten, timeout=20)
    assert written.show_id == "test-0009"
    assert handled(settings.data_dir) == ["test-0009"]
