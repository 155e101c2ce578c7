"""Accelerated soak: simulated hours of the whole station in minutes of wall time (JSON).

    .venv/bin/python scripts/soak.py [--hours 24] [--scale 60] [--papers 14] [--keep DIR]

The real workers (pdf, embeddings, writer, tts, recorder, scheduler, playout), each its
own `radio worker` process, on a real mosquitto, with `clock.time_scale` = --scale: the
scheduler and the playout clock run that many times faster than real time, from the
real time once the workers are up (the two that read the clock start last). The corpus
PDFs are ingested at the start (`radio ingest`: `fetched_at` is now). The schedule has
the starter schedule's shape, moved so its shows have papers: a daily (every day) one
simulated hour in and a weekly three hours in. Shows are seeded with the real time, and a
show's papers are those fetched on its day: a simulated day other than today has nothing
to air (the daily's second run, a day later, finds no papers of its day and fails; the
fallback covers it). The scheduler fills the time between with "latest" shows and deep
dives. The writer runs on its no-LLM path (the LLM server it is pointed at does not
exist: every line is the checked fallback); the summarizer and the fetcher do not run
(no LLM; no arXiv). The playout has no outputs: its silence meter measures the timeline.

Figures: dead air and the longest silence on the timeline (playout's meter), seconds
aired live and in fallback, shows requested/written/voiced/recorded, errors per worker,
and for each worker its RSS, open file descriptors (psutil, from outside) and asyncio
tasks (its status) at the first sample, a quarter in ("warm": models loaded, first
episodes recorded) and at the end, with RSS at each sample. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiomqtt  # noqa: E402
import psutil  # noqa: E402

from radio.messages import (  # noqa: E402
    EpisodeRecorded,
    ErrorReport,
    OnAirNow,
    PaperEmbedded,
    PaperParsed,
    SegmentVoiced,
    ShowRequested,
    ShowWritten,
    WorkerStatus,
)
from tests.support.mosquitto import PASSWORD, USER, Mosquitto  # noqa: E402
from tests.support.ports import free_port  # noqa: E402

CORPUS_PDF = ROOT.parent / "shared" / "corpus" / "pdf"
WORKERS = ("pdf", "embeddings", "writer", "tts", "recorder", "scheduler", "playout")
CLOCKED = ("scheduler", "playout")  # they read the station clock: started last, quickly
CLOCK_LEAD_S = 20.0  # real seconds they get to start before the simulated start
INSTANCE = "soak"


class Watch:
    """Every message on the bus, decoded where the soak needs it (a thread of its own)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.status: dict[str, WorkerStatus] = {}
        self.counts: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.first_errors: list[str] = []
        self.kinds: Counter[str] = Counter()
        self.stop = threading.Event()

    def run(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        while not self.stop.is_set():
            try:
                async with aiomqtt.Client("127.0.0.1", self.port, username=USER,
                                          password=PASSWORD, identifier="soak-watch") as client:
                    await client.subscribe("radio/#", qos=1)
                    async for message in client.messages:
                        self._seen(message.topic.value.removeprefix("radio/"),
                                   bytes(message.payload or b""))
                        if self.stop.is_set():
                            return
            except aiomqtt.MqttError:
                await asyncio.sleep(0.5)

    def _seen(self, topic: str, payload: bytes) -> None:
        with contextlib.suppress(ValueError):
            if topic.startswith("status/"):
                status = WorkerStatus.from_json(payload)
                self.status[status.worker] = status
            elif topic == ErrorReport.TOPIC:
                error = ErrorReport.from_json(payload)
                self.errors[error.worker] += 1
                if len(self.first_errors) < 12:
                    self.first_errors.append(f"{error.worker}: {error.reason[:200]}")
            elif topic == ShowRequested.TOPIC:
                self.kinds[ShowRequested.from_json(payload).kind] += 1
                self.counts["shows_requested"] += 1
            elif topic == OnAirNow.TOPIC:
                self.counts[f"onair_{OnAirNow.from_json(payload).mode}"] += 1
            else:
                names = {PaperParsed.TOPIC: "papers_parsed",
                         PaperEmbedded.TOPIC: "papers_embedded",
                         ShowWritten.TOPIC: "shows_written", SegmentVoiced.TOPIC: "lines_voiced",
                         EpisodeRecorded.TOPIC: "episodes_recorded"}
                if topic in names:
                    self.counts[names[topic]] += 1

    def online(self, names: tuple[str, ...] = WORKERS) -> bool:
        return all(self.status.get(w) and self.status[w].state == "online" for w in names)


def environment(data: Path, broker: Mosquitto, scale: float,
                started_at: datetime) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADIO_")}
    daily, weekly = (started_at + timedelta(hours=h) for h in (1, 3))
    shows = [{"kind": "daily", "at": f"{daily:%H:%M}", "days": "daily"},
             {"kind": "weekly", "at": f"{weekly:%H:%M}", "days": f"{weekly:%a}".lower()}]
    env.update({
        "PYTHONPATH": str(ROOT), "RADIO_CONFIG": str(data / "none.toml"),
        "RADIO_DATA_DIR": str(data), "RADIO_BROKER_URL": broker.url,
        "RADIO_CATEGORIES": "cs.AI,cs.LG,cs.CL,cs.CV",
        "RADIO_CLOCK__TIME_SCALE": str(scale), "RADIO_CLOCK__START": started_at.isoformat(),
        "RADIO_CLOCK__STARTED_AT": started_at.isoformat(),
        "RADIO_HTTP_BIND": f"127.0.0.1:{free_port()}",
        "RADIO_SCHEDULER__STARTER_SHOWS": json.dumps(shows),
        "RADIO_SCHEDULER__TICK_S": "60",  # station seconds: one look per real second at 60x
        "RADIO_PLAYOUT__LISTEN_BIND": "", "RADIO_PLAYOUT__CHUNK_MS": "500",
        "RADIO_PLAYOUT__OBS_FILES": "false",
        # No LLM server listens here: the writer's checked fallback writes every line.
        "RADIO_LLM__BACKEND": "openai", "RADIO_LLM__BASE_URL": f"http://127.0.0.1:{free_port()}/v1",
        "RADIO_LLM__RETRIES": "0", "RADIO_LLM__TIMEOUT_S": "5",
        "RADIO_BUS__HEARTBEAT_S": "2",
    })
    return env


def sample(procs: dict[str, subprocess.Popen], watch: Watch) -> dict[str, dict]:
    """Per worker: RSS (MB) and open fds from outside, asyncio tasks from its status."""
    out = {}
    for name, proc in procs.items():
        try:
            ps = psutil.Process(proc.pid)
            row = {"rss_mb": round(ps.memory_info().rss / 2**20, 1), "open_fds": ps.num_fds()}
        except psutil.Error:
            row = {"rss_mb": None, "open_fds": None}
        status = watch.status.get(name)
        row["tasks"] = status.detail.get("process", {}).get("tasks") if status else None
        out[name] = row
    return out


def wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.5)


def soak(folder: Path, hours: float, scale: float, papers: int, startup_s: float) -> dict:
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    broker = Mosquitto(folder / "mosquitto").start()
    watch = Watch(broker.port)
    threading.Thread(target=watch.run, daemon=True).start()
    logs = folder / "logs"
    logs.mkdir(exist_ok=True)
    procs: dict[str, subprocess.Popen] = {}

    def start(names: tuple[str, ...], env: dict[str, str]) -> None:
        for name in names:
            procs[name] = subprocess.Popen(
                [sys.executable, "-m", "radio", "worker", name, "--instance", INSTANCE],
                cwd=ROOT, env=env, stdout=(logs / f"{name}.log").open("ab"),
                stderr=subprocess.STDOUT)

    try:
        env = environment(data, broker, scale, datetime.now(UTC))  # they read no clock
        unclocked = tuple(w for w in WORKERS if w not in CLOCKED)
        start(unclocked, env)
        wait(lambda: watch.online(unclocked), startup_s, "the workers online")
        pdfs = sorted(CORPUS_PDF.glob("*.pdf"))[:papers]
        subprocess.run([sys.executable, "-m", "radio", "ingest", *map(str, pdfs)], cwd=ROOT,
                       env=env, stdout=(logs / "ingest.log").open("ab"),
                       stderr=subprocess.STDOUT, timeout=600, check=False)
        started_at = datetime.now(UTC) + timedelta(seconds=CLOCK_LEAD_S)
        start(CLOCKED, environment(data, broker, scale, started_at))
        wait(watch.online, startup_s, "the scheduler and the playout online")
        time.sleep(max(0.0, (started_at - datetime.now(UTC)).total_seconds()))
        step_h = min(1.0, hours / 8)  # at least 8 samples
        series, samples = [], []
        for index in range(1, round(hours / step_h) + 1):
            hour = index * step_h
            time.sleep(max(0.0, started_at.timestamp() + hour * 3600 / scale - time.time()))
            dead = [n for n, p in procs.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f"workers exited: {dead}; see {logs}")
            samples.append((hour, sample(procs, watch)))
            playout = watch.status.get("playout")
            series.append({"hour": round(hour, 2),
                           "rss_mb": {n: r["rss_mb"] for n, r in samples[-1][1].items()},
                           "silence": playout.detail.get("silence") if playout else None})
        # Warm: a quarter in, once models are loaded and the first episodes recorded.
        warm = next(s for h, s in samples if h >= hours / 4)
        end = sample(procs, watch)
        playout = watch.status["playout"].detail
        return {
            "simulated_h": hours, "time_scale": scale, "start": started_at.isoformat(),
            "wall_s": round(time.time() - started_at.timestamp(), 1),
            "writer": "no-LLM fallback path", "voices": "defaults (piper:joe, hibari:heart)",
            "papers_ingested": len(pdfs),
            "silence": playout.get("silence"), "skipped_s": playout.get("skipped_s"),
            "fallback_s": playout.get("fallback_s"),
            "shows_requested_by_kind": dict(watch.kinds), "counts": dict(watch.counts),
            "errors_by_worker": dict(watch.errors), "first_errors": watch.first_errors,
            "workers": {n: {"first": samples[0][1][n], "warm": warm[n], "end": end[n]}
                        for n in procs},
            "samples": series,
        }
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        watch.stop.set()
        broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--scale", type=float, default=60.0)
    parser.add_argument("--papers", type=int, default=14)
    parser.add_argument("--startup", type=float, default=600.0,
                        help="real seconds the workers may take to start")
    parser.add_argument("--keep", type=Path, default=None, help="keep data and logs here")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        result = soak(args.keep, args.hours, args.scale, args.papers, args.startup)
    else:
        with tempfile.TemporaryDirectory(prefix="soak-") as folder:
            result = soak(Path(folder), args.hours, args.scale, args.papers, args.startup)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
