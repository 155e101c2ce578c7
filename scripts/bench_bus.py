"""Bus benchmark: hop latency and throughput, mosquitto and the embedded broker side by side.

One hop = a QoS 1 publish through radio.bus.Bus until the subscribing Bus hands the
payload to its handler (both in this process, so one clock). Prints JSON.

    .venv/bin/python scripts/bench_bus.py [--messages 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from radio.broker import EmbeddedBroker
from radio.bus import Bus, Subscription
from radio.config import BusSettings, Settings
from tests.support.mosquitto import Mosquitto
from tests.support.ports import free_port


async def measure(settings: Settings, messages: int) -> dict:
    arrivals: dict[int, float] = {}
    arrived = asyncio.Event()

    async def on_message(_topic: str, payload: bytes, _retained: bool) -> None:
        arrivals[int(payload[:10])] = time.perf_counter()
        arrived.set()

    sub = Bus(settings, "bench-sub", subscriptions=(Subscription("bench"),), persistent=False)
    pub = Bus(settings, "bench-pub", persistent=False)
    tasks = [asyncio.create_task(sub.run(on_message)),
             asyncio.create_task(pub.run(lambda *_: asyncio.sleep(0)))]
    await sub.connected.wait()
    await pub.connected.wait()
    padding = b" " * 246  # 256-byte messages, about the size of a work message

    latencies = []
    for n in range(200):
        arrived.clear()
        sent = time.perf_counter()
        await pub.publish("bench", b"%10d" % n + padding)
        await arrived.wait()
        latencies.append((arrivals[n] - sent) * 1000)

    arrivals.clear()
    start = time.perf_counter()
    for n in range(messages):
        await pub.publish("bench", b"%10d" % n + padding)
    while len(arrivals) < messages:
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - start
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies.sort()
    return {
        "hop_latency_ms_median": round(statistics.median(latencies), 3),
        "hop_latency_ms_p95": round(latencies[int(len(latencies) * 0.95)], 3),
        "throughput_msgs_per_s": round(messages / elapsed, 1),
        "messages": messages,
    }


async def main(messages: int) -> dict:
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        mosquitto = Mosquitto(Path(tmp) / "mosquitto").start()
        try:
            cfg = Settings(data_dir=Path(tmp), broker_url=SecretStr(mosquitto.url))
            results["mosquitto_mqtt5"] = await measure(cfg, messages)
        finally:
            mosquitto.stop()
        port = free_port()
        broker = EmbeddedBroker(port)
        await broker.start()
        try:
            cfg = Settings(data_dir=Path(tmp), bus=BusSettings(embedded_port=port))
            results["embedded_amqtt_mqtt311"] = await measure(cfg, messages)
        finally:
            await broker.stop()
    results["embedded_vs_mosquitto_throughput_ratio"] = round(
        results["embedded_amqtt_mqtt311"]["throughput_msgs_per_s"]
        / results["mosquitto_mqtt5"]["throughput_msgs_per_s"], 3)
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.messages)), indent=2))
