"""The whole station end to end: seconds of voiced programme per second of wall time (JSON).

    .venv/bin/python scripts/bench_station.py --papers 4 --length 5m [--gpu] [--keep DIR]
    .venv/bin/python scripts/bench_station.py --short    # the CI form: tiny LLM, 1 paper

Starts `radio up` (every worker in one process, embedded broker, embedded defaults) on a
fresh data root, with the arXiv stand-in (tests/support/arxiv_standin.py) as arXiv and its
feed empty; ingests corpus PDFs as local files (`radio ingest`, so no arXiv 3-second
rule), asks for one "latest" show of `--length` as soon as the papers are parsed, and
watches the bus until its last line is voiced. The scheduler's filler is off
(`buffer_ahead_s = 0`) so the show measured is the only one written. Then breaking news: a
paper appears in the stand-in's feed, the fetcher is told to poll, and the clock runs until
its news show is on air. Last, related-paper queries over the bus.

Figures:
- airtime_factor: voiced seconds of the show / wall seconds from its request to its last
  voiced line (target >= 3 on 2 cores, >= 30 on one H100-class GPU);
  airtime_factor_from_ingest: the same from the first `radio ingest` call;
- stages: wall seconds of ingest+parse, the writer's own writing time (script.json),
  writing and voicing as seen on the bus; papers per hour parsed, embedded, summarized;
- peak_rss_mb: the most resident memory of `radio up` and its children, sampled each
  0.5 s (target <= 2500), and rss_mb_at_peak: each process's share at that moment;
- breaking_news: feed -> poll -> fetched (the 3 s rule: `fetch_s`) -> parsed -> summarized ->
  written -> voiced -> first second on air (`latency_s`, target < 600);
- query: p50/p99 ms of `related` asked of the embeddings worker over the bus (the station's
  own small index; scripts/bench_index.py measures 100k and 1M vectors);
- load_avg_1m at the start, the end and the highest seen: the machine may be shared.
Prints one JSON object; the station's log is kept with `--keep`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import aiomqtt  # noqa: E402
import psutil  # noqa: E402

from radio.backends.llm import tiny_model_path  # noqa: E402
from radio.messages import (  # noqa: E402
    Command,
    EpisodeRecorded,
    OnAirNow,
    PaperEmbedded,
    PaperFetched,
    PaperParsed,
    PaperSummarized,
    QueryReply,
    SegmentVoiced,
    ShowRequested,
    ShowWritten,
    WorkerStatus,
    topic_of,
)
from radio.shows.schedule import parse_length  # noqa: E402
from tests.support.arxiv_standin import ArxivStandIn  # noqa: E402

CORPUS_PDF = ROOT.parent / "shared" / "corpus" / "pdf"
PAPERS = ["2304.02623v1.pdf", "2310.07875v1_excerpt-p1-7.pdf", "1804.07821v1.pdf",
          "2312.10997v5.pdf", "2308.08155v2.pdf", "2404.01230v1.pdf",
          "1912.10667v1.pdf", "2206.10883v3.pdf"]
NEEDED = ("fetcher", "pdf", "summarizer", "embeddings", "writer", "tts", "recorder", "playout")
SHOW_ID = "latest-bench"
NEWS = "2312.10997v5"  # appears in the stand-in's cs.CL feed mid-run (never ingested by hand)
CATEGORIES = ("cs.AI", "cs.CL", "cs.LG", "cs.CV")
QUERIES = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Watch:
    """Every message on the station's bus, with the wall time it arrived."""

    def __init__(self, port: int, prefix: str = "radio") -> None:
        self.port, self.prefix = port, prefix
        self.seen: list[tuple[float, str, bytes]] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def run(self) -> None:
        asyncio.run(self._run())

    async def _run(self) -> None:
        while not self.stop.is_set():
            try:
                async with aiomqtt.Client("127.0.0.1", self.port,
                                          identifier=f"bench-{os.getpid()}") as client:
                    await client.subscribe(f"{self.prefix}/#", qos=1)
                    async for message in client.messages:
                        with self.lock:
                            self.seen.append((time.monotonic(),
                                              message.topic.value.removeprefix(
                                                  self.prefix + "/"),
                                              bytes(message.payload or b"")))
                        if self.stop.is_set():
                            return
            except aiomqtt.MqttError:
                await asyncio.sleep(0.5)  # the broker is not up yet

    def of(self, model: type, topic: str | None = None) -> list[tuple[float, object]]:
        with self.lock:
            rows = list(self.seen)
        out = []
        for at, seen_topic, payload in rows:
            if (topic and seen_topic.startswith(topic)) or seen_topic == model.TOPIC:
                with contextlib.suppress(ValueError):
                    out.append((at, model.from_json(payload)))
        return out


class PeakRSS:
    """The station's resident memory (with its children) and the machine's load, sampled."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak, self.stop = pid, 0, threading.Event()
        self.at_peak: dict[str, int] = {}  # MB of each process at the peak
        self.peak_load = os.getloadavg()[0]

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                root = psutil.Process(self.pid)
                each = {f"{p.pid} {' '.join(p.cmdline()[:3])[-60:]}": p.memory_info().rss
                        for p in [root, *root.children(recursive=True)] if p.is_running()}
                if sum(each.values()) > self.peak:
                    self.peak = sum(each.values())
                    self.at_peak = {k: v >> 20 for k, v in each.items()}
            except psutil.Error:
                pass
            self.peak_load = max(self.peak_load, os.getloadavg()[0])
            time.sleep(0.5)


def wait(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.25)


async def _ask(port: int, prefix: str, action: str, args: dict[str, str], n: int
               ) -> list[float]:
    """Round trips (ms) of `n` query commands to the embeddings worker, one at a time."""
    token = secrets.token_hex(6)
    times = []
    wanted = f"{prefix}/{topic_of(QueryReply, token=token)}"
    async with aiomqtt.Client("127.0.0.1", port, identifier=f"bench-q-{token}") as client:
        await client.subscribe(wanted, qos=1)
        replies = client.messages.__aiter__()

        async def reply() -> QueryReply:
            # The embedded broker was seen to hand this client a retained status too.
            while True:
                message = await replies.__anext__()
                if message.topic.value == wanted:
                    return QueryReply.from_json(bytes(message.payload or b""))

        for _ in range(n):
            command = Command(worker="embeddings", action=action,
                              args={**args, "reply_to": token})
            started = time.perf_counter()
            await client.publish(f"{prefix}/{topic_of(Command, worker='embeddings')}",
                                 command.to_json(), qos=1)
            async with asyncio.timeout(30):
                answer = await reply()
            if answer.error:
                raise RuntimeError(f"query failed: {answer.error}")
            times.append((time.perf_counter() - started) * 1000)
    return times


async def _command(port: int, prefix: str, worker: str, action: str) -> None:
    async with aiomqtt.Client("127.0.0.1", port, identifier=f"bench-c-{os.getpid()}") as client:
        await client.publish(f"{prefix}/{topic_of(Command, worker=worker)}",
                             Command(worker=worker, action=action).to_json(), qos=1)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))], 1)


def breaking_news(watch: Watch, standin: ArxivStandIn, port: int, timeout: float) -> dict:
    """A paper appears in the feed: seconds from the poll to each stage, to its air."""
    arxiv_id = NEWS.split("v")[0]
    show_id = f"news-{arxiv_id}"
    standin.listing("cs.CL", [NEWS])
    t0 = time.monotonic()
    asyncio.run(_command(port, "radio", "fetcher", "poll"))

    def first(model: type, where) -> float | None:
        times = [at for at, m in watch.of(model) if where(m)]
        return round(min(times) - t0, 1) if times else None

    def on_air() -> float | None:
        return first(OnAirNow, lambda m: m.show_id == show_id and m.mode == "live")

    wait(lambda: on_air() is not None, timeout, "the breaking news to be on air")
    paper = lambda m: m.arxiv_id == arxiv_id  # noqa: E731
    show = lambda m: m.show_id == show_id  # noqa: E731
    return {"paper": NEWS, "fetch_s": first(PaperFetched, paper),
            "requested_s": first(ShowRequested, show), "parsed_s": first(PaperParsed, paper),
            "summarized_s": first(PaperSummarized, paper), "written_s": first(ShowWritten, show),
            "first_voiced_s": first(SegmentVoiced, show), "latency_s": on_air(),
            "target_s": 600}


_LLM_CALL = re.compile(r"llm call: prompt (\d+) tokens in ([\d.]+) s, generation (\d+) tokens "
                       r"in ([\d.]+) s, other ([\d.]+) s")


def llm_time(log: Path) -> dict:
    """Where the LLM's time went over the run (every call's log line, summaries and shows
    together): prompt evaluation, generation, and the rest (sampling under the grammar)."""
    calls = [tuple(map(float, m.groups()))
             for m in _LLM_CALL.finditer(log.read_text(errors="replace"))]
    prompt_t, prompt_s, gen_t, gen_s, other_s = (sum(c[i] for c in calls) for i in range(5))
    return {"calls": len(calls), "prompt_tokens": int(prompt_t), "prompt_s": round(prompt_s, 1),
            "prompt_tokens_per_s": round(prompt_t / prompt_s, 1) if prompt_s else None,
            "generated_tokens": int(gen_t), "generation_s": round(gen_s, 1),
            "generated_tokens_per_s": round(gen_t / gen_s, 1) if gen_s else None,
            "other_s": round(other_s, 1)}


def stage_breakdown(voiced: list[tuple[float, SegmentVoiced]], t_written: float | None
                    ) -> dict:
    """TTS wall seconds and voiced seconds per speaker, from the gaps between lines."""
    per: dict[str, dict[str, float]] = {}
    last = t_written
    for at, m in sorted(voiced, key=lambda row: row[0]):
        row = per.setdefault(m.speaker, {"wall_s": 0.0, "voiced_s": 0.0})
        if last is not None:
            row["wall_s"] += at - last
        row["voiced_s"] += m.duration_s
        last = at
    return {k: {"wall_s": round(v["wall_s"], 1), "voiced_s": round(v["voiced_s"], 1),
                "realtime_factor": round(v["voiced_s"] / v["wall_s"], 2) if v["wall_s"] else None}
            for k, v in per.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=4, help="Corpus PDFs to ingest (<= 8).")
    parser.add_argument("--length", default="5m", help="Length of the show asked for.")
    parser.add_argument("--timeout", type=float, default=3600, help="Give up after (s).")
    parser.add_argument("--threads", type=int, default=None, help="llm.n_threads.")
    parser.add_argument("--gpu", action="store_true", help="device = cuda for the LLM, TTS "
                        "and embedder (docs/gpu.md); without it device = cpu.")
    parser.add_argument("--keep", type=Path, default=None, help="Keep the data root here.")
    parser.add_argument("--tiny", action="store_true", help="The tiny test LLM (structure "
                        "only: its words are nonsense).")
    parser.add_argument("--short", action="store_true", help="CI form: --tiny, 1 paper, a "
                        "1-minute show.")
    args = parser.parse_args()
    if args.short:
        args.tiny, args.papers, args.length = True, 1, "1m"

    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-station-"))
    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RADIO_")}
    env.update(RADIO_CONFIG=str(root / "none.toml"), RADIO_DATA_DIR=str(data),
               RADIO_BUS__EMBEDDED_PORT=str(port), RADIO_HTTP_BIND=f"127.0.0.1:{free_port()}",
               RADIO_PLAYOUT__LISTEN_BIND=f"127.0.0.1:{free_port()}",
               RADIO_SCHEDULER__BUFFER_AHEAD_S="0", RADIO_SCHEDULER__STARTER_SHOWS="[]",
               RADIO_FETCHER__POLL_INTERVAL_S="86400", PYTHONPATH=str(ROOT))
    standin = ArxivStandIn().start()
    for category in CATEGORIES:  # an empty feed: the first poll finds nothing
        standin.listing(category, [])
    env.update(standin.env())
    if args.tiny:
        env["RADIO_LLM__MODEL_PATH"] = str(tiny_model_path())
    if args.threads:
        env["RADIO_LLM__N_THREADS"] = str(args.threads)
    device = "cuda" if args.gpu else "cpu"  # the figures say where they were made
    env.update({f"RADIO_{part}__DEVICE": device for part in ("LLM", "TTS", "EMBEDDER")})
    pdfs = [str(CORPUS_PDF / name) for name in [p for p in PAPERS if NEWS not in p][:args.papers]]
    length_s = parse_length(args.length)

    watch = Watch(port)
    threading.Thread(target=watch.run, daemon=True).start()
    log = (root / "station.log").open("ab")
    started = time.monotonic()
    station = subprocess.Popen([sys.executable, "-m", "radio", "up"], cwd=ROOT, env=env,
                               stdout=log, stderr=subprocess.STDOUT)
    rss = PeakRSS(station.pid)
    threading.Thread(target=rss.run, daemon=True).start()
    result: dict = {"papers": len(pdfs), "show_length_asked_s": length_s,
                    "gpu": args.gpu, "tiny_llm": args.tiny, "threads": args.threads,
                    "cpu_count": os.cpu_count(), "load_avg_1m_start": round(os.getloadavg()[0], 2),
                    "data_root": str(root) if args.keep else None}
    try:
        def online() -> set[str]:
            return {s.worker for _, s in watch.of(WorkerStatus, "status/")
                    if s.state == "online"}

        wait(lambda: set(NEEDED) <= online(), args.timeout, "the workers to be online")
        result["startup_s"] = round(time.monotonic() - started, 1)

        t_ingest = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "radio", "ingest", *pdfs], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=args.timeout)
        if done.returncode != 0:
            raise RuntimeError(f"radio ingest failed: {done.stderr[-2000:]}")
        wait(lambda: len({m.arxiv_id for _, m in watch.of(PaperParsed)}) >= len(pdfs),
             args.timeout, "the papers to be parsed")
        t_parsed = max(at for at, _ in watch.of(PaperParsed))

        t_request = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "radio", "show", "run", "latest",
                               "--length", args.length, "--id", SHOW_ID], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"radio show run failed: {done.stderr[-2000:]}")

        def voiced() -> list[tuple[float, SegmentVoiced]]:
            return [(at, m) for at, m in watch.of(SegmentVoiced) if m.show_id == SHOW_ID]

        wait(lambda: any(m.last for _, m in voiced()), args.timeout, "the show to be voiced")
        t_voiced = max(at for at, _ in voiced())
        written = [(at, m) for at, m in watch.of(ShowWritten) if m.show_id == SHOW_ID]
        t_written = written[0][0] if written else None
        seconds = sum(m.duration_s for _, m in {m.seq: (at, m) for at, m in voiced()}.values())
        script = json.loads((data / "shows" / SHOW_ID / "script.json").read_text())

        def per_hour(model: type) -> float | None:
            times = sorted(at for at, _ in watch.of(model))
            return round(len(times) * 3600 / (times[-1] - t_ingest), 1) if times else None

        rate = {"parsed": per_hour(PaperParsed), "embedded": per_hour(PaperEmbedded),
                "summarized": per_hour(PaperSummarized)}
        with contextlib.suppress(TimeoutError):  # the recorder's part, when it comes
            wait(lambda: any(m.show_id == SHOW_ID for _, m in watch.of(EpisodeRecorded)),
                 180, "the episode")
        recorded = [at for at, m in watch.of(EpisodeRecorded) if m.show_id == SHOW_ID]

        result.update({
            "voiced_s": round(seconds, 1),
            "airtime_factor": round(seconds / (t_voiced - t_request), 3),
            "airtime_factor_from_ingest": round(seconds / (t_voiced - t_ingest), 3),
            "stages": {
                "ingest_and_parse_s": round(t_parsed - t_ingest, 1),
                "writer_writing_s": script.get("writing_s"),
                "request_to_written_s": round(t_written - t_request, 1) if t_written else None,
                "written_to_last_voiced_s": round(t_voiced - t_written, 1) if t_written
                else None,
                "lines": len(voiced()),
                "tts_per_speaker": stage_breakdown(voiced(), t_written),
                "recorder_s": round(recorded[0] - t_voiced, 1) if recorded else None,
            },
            "papers_per_hour": {**rate, "ingest_target": 3000,
                                "note": "radio ingest of local PDFs: no fetch, no 3 s rule "
                                        "(breaking_news.fetch_s has a fetch)"},
            "peak_rss_mb": round(rss.peak / 2**20),
            "targets": {"airtime_factor": 30 if args.gpu else 3, "peak_rss_mb": 2500},
        })
        result["breaking_news"] = breaking_news(watch, standin, port, min(args.timeout, 1200))
        parsed_ids = sorted({m.arxiv_id for _, m in watch.of(PaperParsed)})
        ms = asyncio.run(_ask(port, "radio", "related", {"arxiv_id": parsed_ids[0], "k": "5"},
                              QUERIES))
        result["query"] = {"action": "related", "n": len(ms), "p50_ms": percentile(ms, 50),
                           "p99_ms": percentile(ms, 99), "index_papers": len(parsed_ids),
                           "target_p99_ms": 20}
    except Exception as exc:  # whatever failed, the figures so far are printed
        result["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        rss.stop.set()
        watch.stop.set()
        station.send_signal(signal.SIGINT)
        try:
            station.wait(60)
        except subprocess.TimeoutExpired:
            station.kill()
        standin.stop()
        result["peak_rss_mb"] = round(rss.peak / 2**20)
        result["rss_mb_at_peak"] = rss.at_peak
        log.close()
        result["llm_time"] = llm_time(root / "station.log")
        result["load_avg_1m_end"] = round(os.getloadavg()[0], 2)
        result["load_avg_1m_peak"] = round(rss.peak_load, 2)
        result["wall_s"] = round(time.monotonic() - started, 1)
        result["log"] = str(root / "station.log") if args.keep else None
    print(json.dumps(result, indent=1))
    sys.exit(1 if "error" in result else 0)


if __name__ == "__main__":
    main()
