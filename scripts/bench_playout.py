"""CPU and memory of playout + its ffmpeg RTMP output at 720p30, and the longest silence.

The playout worker runs as its own process (`radio worker playout`) against an embedded
broker, streaming RTMP into a real nginx-rtmp (the Twitch stand-in). Real corpus
sentences voiced by flite are fed in two halves with a pause between them, so the run
covers live lines, the fallback and the way back. CPU% (of one core) and RSS come from
/proc for the playout process and its ffmpeg child; the longest silence is measured on
the recorded flv with ffmpeg's silencedetect (-50 dB). Prints JSON.

Run: .venv/bin/python scripts/bench_playout.py --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from radio.artifacts import DataRoot
from radio.broker import EmbeddedBroker
from radio.bus import publish_once
from radio.config import BusSettings, Settings
from radio.messages import SegmentVoiced
from radio.store import Store
from tests.onair.voicing import add_paper, pdf_paper, sentences, voice_show
from tests.support.nginx_rtmp import NginxRtmp
from tests.support.ports import free_port
from tests.support.procs import spawn, stop

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def rss_mb(pid: int) -> float:
    return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20


def ffmpeg_child(pid: int) -> int | None:
    """The ffmpeg started by any of the process's threads (children are per thread)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if Path(f"/proc/{child}/comm").read_text().strip() == "ffmpeg":
                return int(child)
    return None


class Meter:
    """CPU% over the window and peak RSS of one process, sampled once a second."""

    def __init__(self, pid: int) -> None:
        self.pid, self.start, self.t0 = pid, cpu_ticks(pid), time.monotonic()
        self.peak = self.total = 0.0
        self.samples = 0

    def sample(self) -> None:
        rss = rss_mb(self.pid)
        self.peak, self.total, self.samples = max(self.peak, rss), self.total + rss, \
            self.samples + 1

    def result(self) -> dict:
        seconds = time.monotonic() - self.t0
        used = (cpu_ticks(self.pid) - self.start) / TICK
        return {"cpu_pct": round(100 * used / seconds, 1), "rss_mb_peak": round(self.peak, 1),
                "rss_mb_mean": round(self.total / max(1, self.samples), 1)}


def longest_silence(path: Path) -> float:
    done = subprocess.run(["ffmpeg", "-nostdin", "-v", "info", "-i", str(path), "-af",
                           "silencedetect=noise=-50dB:d=0.1", "-f", "null", "-"],
                          capture_output=True, text=True, timeout=300)
    found = [float(d) for d in re.findall(r"silence_duration: ([\d.]+)", done.stderr)]
    return max(found, default=0.0)


def probe(path: Path) -> dict:
    done = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                           "stream=codec_name,width,height,r_frame_rate:format=duration",
                           "-of", "json", str(path)], capture_output=True, text=True)
    return json.loads(done.stdout or "{}")


def with_pictures(data: DataRoot, store: Store) -> list[tuple[str | None, str]]:
    """Lines about two corpus PDFs whose first pages are shown (CC BY in this bench)."""
    import pymupdf

    lines: list[tuple[str | None, str]] = []
    for name in ("pdf/2308.08155v2.pdf", "pdf/1804.07821v1.pdf"):
        paper, sentences_ = pdf_paper(CORPUS, name, 3)
        add_paper(store, paper, "http://creativecommons.org/licenses/by/4.0/")
        pages = data.paper_dir(paper["arxiv_id"]) / "pages"
        pages.mkdir(parents=True, exist_ok=True)
        with pymupdf.open(CORPUS / name) as doc:
            doc[0].get_pixmap(matrix=pymupdf.Matrix(1.6, 1.6)).save(pages / "001.png")
        lines += [(paper["arxiv_id"], text) for text in sentences_]
    store.close()
    return lines


async def feed(settings: Settings, segments: list[SegmentVoiced]) -> None:
    for segment in segments:
        await publish_once(settings, segment.TOPIC, segment.to_json())


def save_stills(flv: Path, folder: Path, seconds: float) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for at in (0.15, 0.5, 0.9):
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", "-ss", f"{seconds * at:.1f}",
                        "-i", str(flv), "-frames:v", "1", str(folder / f"still_{at:.2f}.png")],
                       timeout=60)


async def bench(seconds: float, work: Path, stills: Path | None) -> dict:
    settings = Settings(data_dir=work / "data", bus=BusSettings(embedded_port=free_port()))
    data = DataRoot(settings.data_dir)
    lines = with_pictures(data, Store(settings.database_path)) + sentences(CORPUS, 6)
    show = voice_show(data, "bench-playout", lines)
    broker = EmbeddedBroker(settings.bus.embedded_port)
    await broker.start()
    nginx = NginxRtmp(work / "nginx").start()
    proc = spawn(["worker", "playout", "--instance", "bench"], settings, work / "playout.log",
                 RADIO_PLAYOUT__RTMP_URL=nginx.ingest_url, RADIO_PLAYOUT__RTMP_KEY="bench",
                 RADIO_PLAYOUT__LISTEN_BIND="", RADIO_LOG_LEVEL="WARNING")
    try:
        deadline = time.monotonic() + 120
        while (child := ffmpeg_child(proc.pid)) is None:
            if time.monotonic() > deadline or proc.poll() is not None:
                log = (work / "playout.log").read_text()[-3000:]
                raise RuntimeError(f"playout did not start:\n{log}")
            await asyncio.sleep(0.5)
        await feed(settings, show[:6])
        meters = {"playout": Meter(proc.pid), "ffmpeg_rtmp": Meter(child)}
        started = time.monotonic()
        resumed = False
        while (elapsed := time.monotonic() - started) < seconds:
            if not resumed and elapsed > seconds * 0.6:  # after a stretch of fallback
                await feed(settings, show[6:])
                resumed = True
            for meter in meters.values():
                meter.sample()
            await asyncio.sleep(1.0)
        results = {name: meter.result() for name, meter in meters.items()}
    finally:
        stop(proc)
        nginx.stop()
        await broker.stop()
    flv = nginx.recordings()[0]
    results["total_cpu_pct"] = round(sum(r["cpu_pct"] for r in results.values()), 1)
    results["total_rss_mb_peak"] = round(sum(r["rss_mb_peak"] for r in
                                             (results["playout"], results["ffmpeg_rtmp"])), 1)
    results["longest_silence_s"] = round(longest_silence(flv), 2)
    results["recording"] = probe(flv)
    if stills:
        save_stills(flv, stills, seconds)
    nginx.remove()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--stills", type=Path, help="Save three stills of the video here.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-playout-") as tmp:
        results = asyncio.run(bench(args.seconds, Path(tmp), args.stills))
    results.update(seconds=args.seconds, video="1280x720@30 libx264 veryfast 2500k + aac 128k",
                   load_avg_1m=os.getloadavg()[0], cpus=os.cpu_count())
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
