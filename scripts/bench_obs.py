"""OBS controller benchmark: how fast OBS follows `onair/now`, what streaming costs, and how
long a crashed OBS takes to be back on air. Prints JSON.

Runs a real OBS (Xvfb, software GL) streaming to nginx-rtmp, the obs worker and the
embedded broker, all in a private network namespace (OBS's websocket binds 0.0.0.0):
the script re-runs itself under `unshare --net` when needed.

    .venv/bin/python scripts/bench_obs.py [--lines 20] [--stream-s 30] [--size 1280x720]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from pydantic import SecretStr

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from radio.broker import EmbeddedBroker  # noqa: E402
from radio.bus import publish_once  # noqa: E402
from radio.config import BusSettings, OBSSettings, Settings  # noqa: E402
from radio.messages import Command, OnAirNow  # noqa: E402
from radio.obs import scenes  # noqa: E402
from radio.worker import Context  # noqa: E402
from radio.workers.obs import ObsWorker  # noqa: E402
from tests.support.nginx_rtmp import NginxRtmp  # noqa: E402
from tests.support.obs import Obs, in_private_network, run_in_private_network  # noqa: E402
from tests.support.ports import free_port  # noqa: E402


def ask(client, request: str, **data) -> dict:
    return client.send(request, data or None, raw=True) or {}


async def wait_for(check, timeout: float = 120.0, interval: float = 0.02) -> float:
    """Seconds until a blocking check (run in a thread) returns True."""
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            if await asyncio.to_thread(check):
                return time.perf_counter() - start
        except Exception:  # OBS restarting
            pass
        await asyncio.sleep(interval)
    raise TimeoutError("condition not met")


def complete(client, title: str) -> bool:
    for scene, items in scenes.station_layout("Paper Radio", None).scenes.items():
        names = [i["sourceName"] for i in ask(client, "GetSceneItemList",
                                               sceneName=scene)["sceneItems"]]
        if names[: len(items)] != list(items):
            return False
    return ask(client, "GetInputSettings", inputName=scenes.TITLE)["inputSettings"].get(
        "text") == title


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


async def bench(args: argparse.Namespace, work: Path) -> dict:
    width, height = (int(v) for v in args.size.split("x"))
    obs = Obs(work / "obs", size=(width, height), video_kbps=2500, x264_preset="veryfast")
    rtmp = work / "rtmp"
    rtmp.mkdir(mode=0o755)
    os.chmod(work, 0o755)
    nginx = NginxRtmp(rtmp)
    settings = Settings(
        data_dir=work / "data", bus=BusSettings(embedded_port=free_port()),
        obs=OBSSettings(url=obs.url, password=SecretStr(obs.password), poll_s=1.0,
                        stream_url=nginx.ingest_url, stream_key=SecretStr("bench"),
                        reconnect_max_s=1.0))
    broker = EmbeddedBroker(settings.bus.embedded_port)
    await broker.start()
    obs.start()
    nginx.start()
    worker = ObsWorker(Context.from_settings(settings), "bench")
    started = time.perf_counter()
    task = asyncio.create_task(worker.run())
    client = obs.client()
    result: dict = {"canvas": args.size, "fps_target": 30, "video_kbps": 2500,
                    "x264_preset": "veryfast", "load_average_before": os.getloadavg()}
    try:
        first = OnAirNow(mode="live", title="warm-up", text="warm-up")
        await publish_once(settings, OnAirNow.TOPIC, first.to_json(), retain=True)
        await wait_for(lambda: complete(client, "warm-up"))
        result["worker_start_to_scenes_built_s"] = round(time.perf_counter() - started, 2)

        latencies = []
        for n in range(args.lines):
            title = f"Line {n}: a paper title long enough to wrap over two lines on screen"
            now = OnAirNow(mode="live", seq=n, title=title, text=f"line {n}", speaker="Alex")
            sent = time.perf_counter()
            await publish_once(settings, OnAirNow.TOPIC, now.to_json(), retain=True)
            await wait_for(lambda t=title: ask(client, "GetInputSettings",
                                               inputName=scenes.TITLE)["inputSettings"]
                           .get("text") == t)
            latencies.append((time.perf_counter() - sent) * 1000)
        result["follow_latency_ms"] = {"p50": round(statistics.median(latencies), 1),
                                       "p95": round(pct(latencies, 0.95), 1),
                                       "max": round(max(latencies), 1), "n": len(latencies)}

        await publish_once(settings, "commands/obs",
                           Command(worker="obs", action="stream_start").to_json())
        await wait_for(lambda: ask(client, "GetStreamStatus")["outputActive"])
        await asyncio.sleep(3)  # past the encoder's start-up
        pid = obs.proc.pid
        cpu0, self0, t0 = proc_cpu_s(pid), resource.getrusage(resource.RUSAGE_SELF), \
            time.perf_counter()
        stream0 = ask(client, "GetStreamStatus")
        rss = []
        for _ in range(int(args.stream_s)):
            await asyncio.sleep(1)
            rss.append(proc_rss_mb(pid))
        elapsed = time.perf_counter() - t0
        self1 = resource.getrusage(resource.RUSAGE_SELF)
        stats, stream1 = ask(client, "GetStats"), ask(client, "GetStreamStatus")
        frames = stream1["outputTotalFrames"] - stream0["outputTotalFrames"]
        result["streaming"] = {
            "seconds": round(elapsed, 1),
            "obs_cpu_percent_of_one_core": round(100 * (proc_cpu_s(pid) - cpu0) / elapsed, 1),
            "obs_rss_mb_max": round(max(rss), 1),
            "worker_and_broker_cpu_percent": round(100 * (
                self1.ru_utime + self1.ru_stime - self0.ru_utime - self0.ru_stime) / elapsed, 2),
            "output_fps": round(frames / elapsed, 2),
            "dropped_frames": stream1["outputSkippedFrames"] - stream0["outputSkippedFrames"],
            "render_fps": round(stats["activeFps"], 2),
            "render_skipped_frames_total": stats["renderSkippedFrames"],
            "kbps": round(8 * (stream1["outputBytes"] - stream0["outputBytes"]) / elapsed / 1000),
        }
        result["worker_status_detail"] = worker.status_detail()

        client.disconnect()
        last = "Back after a crash"
        await publish_once(settings, OnAirNow.TOPIC, OnAirNow(mode="live", title=last)
                           .to_json(), retain=True)
        killed = time.perf_counter()
        obs.kill()
        obs.start()
        listening = time.perf_counter() - killed
        client = obs.client()
        await wait_for(lambda: complete(client, last) and
                       ask(client, "GetStreamStatus")["outputActive"])
        result["crash_recovery_s"] = {"obs_restart_to_websocket": round(listening, 2),
                                      "kill_to_repaired_and_streaming":
                                          round(time.perf_counter() - killed, 2)}
        result["load_average_after"] = os.getloadavg()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        client.disconnect()
        obs.stop()
        nginx.stop()
        await broker.stop()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--stream-s", type=float, default=30)
    parser.add_argument("--size", default="1280x720")
    args = parser.parse_args()
    if not in_private_network():
        done = run_in_private_network([sys.executable, *sys.argv], cwd=ROOT, timeout=900)
        sys.stdout.write(done.stdout)
        sys.stderr.write(done.stderr[-3000:] if done.returncode else "")
        sys.exit(done.returncode)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    work = Path(tempfile.mkdtemp(prefix="bench-obs-"))
    try:
        print(json.dumps(asyncio.run(bench(args, work)), indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
