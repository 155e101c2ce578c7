"""Seconds to assemble and encode an episode, per minute of audio (prints JSON).

A show of real corpus papers is voiced with flite (title and abstract sentences,
two voices), its lines repeated until the show is `--minutes` long; then the whole
recorder path runs: lay out, loudness-normalize, limit, encode mp3, measure, tag,
transcript, chapters. Run: .venv/bin/python scripts/bench_recorder.py --minutes 10
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from radio.config import Settings
from radio.episodes.assemble import lay_out
from radio.episodes.episode import collect_segments, record_episode
from radio.worker import Context
from tests.episodes.voicing import (
    Line,
    corpus_papers,
    store_segments,
    store_show,
    voice_show,
)

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
SHOW_ID = "bench-show"


class EncodeCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.passes = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.passes += record.getMessage().startswith("encode ")


def bench_lines(paper_count: int, minutes: float) -> list[Line]:
    """Title and two sentences per paper, repeated until the show is long enough."""
    base = []
    for paper in corpus_papers(CORPUS, paper_count):
        base.append(("Mira", f"Next up: {paper.title}.", paper.arxiv_id))
        base.append(("Alex", paper.sentence, paper.arxiv_id))
    # about 9 s a line with flite: enough repeats to reach the length
    repeats = max(1, round(minutes * 60 / (9 * len(base))))
    ordered = sorted(base * repeats, key=lambda line: line[2])  # chapters stay contiguous
    return [Line(seq, s, t, p) for seq, (s, t, p) in enumerate(ordered)]


def cpu_s() -> float:
    """CPU seconds of this process and its children (ffmpeg): wall time on a shared
    2-core machine mostly measures the neighbours."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _ffmpeg_version() -> str:
    first = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout
    match = re.match(r"ffmpeg version (\S+)", first)
    return match.group(1) if match else "unknown"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--papers", type=int, default=8)
    args = parser.parse_args()
    counter = EncodeCounter()
    logging.getLogger("radio.episodes.assemble").addHandler(counter)
    logging.getLogger("radio.episodes.assemble").setLevel(logging.INFO)
    with tempfile.TemporaryDirectory(prefix="bench-recorder-") as tmp:
        os.environ["RADIO_CONFIG"] = str(Path(tmp) / "none.toml")
        settings = Settings(data_dir=Path(tmp) / "data")
        ctx = Context.from_settings(settings)
        lines = bench_lines(args.papers, args.minutes)
        started = time.perf_counter()
        messages = voice_show(ctx.data, SHOW_ID, lines)
        voice_s = time.perf_counter() - started
        store_show(ctx.store, SHOW_ID, "Benchmark show", corpus_papers(CORPUS, args.papers))
        store_segments(ctx.store, messages)
        segments = collect_segments(ctx.store, ctx.data, SHOW_ID, len(lines))
        assert segments is not None
        started = time.perf_counter()
        audio, _, rate = lay_out(segments)
        layout_s = time.perf_counter() - started
        started, cpu_started = time.perf_counter(), cpu_s()
        episode = record_episode(ctx.store, ctx.data, settings, SHOW_ID, segments)
        total_s, total_cpu_s = time.perf_counter() - started, cpu_s() - cpu_started
        minutes = len(audio) / rate / 60
        print(json.dumps({
            "audio_minutes": round(minutes, 2),
            "lines": len(lines),
            "chapters": len(episode.chapters),
            "record_s": round(total_s, 2),
            "seconds_per_audio_minute": round(total_s / minutes, 3),
            "cpu_seconds_per_audio_minute": round(total_cpu_s / minutes, 3),
            "layout_s": round(layout_s, 2),
            "encode_passes": counter.passes,
            "loudness_lufs": episode.loudness_lufs,
            "true_peak_dbtp": episode.true_peak_db,
            "mp3_bytes": episode.paths.mp3.stat().st_size,
            "flite_voicing_s": round(voice_s, 2),
            "cpus": os.cpu_count(),
            "ffmpeg": _ffmpeg_version(),
        }, indent=2))
        ctx.store.close()


if __name__ == "__main__":
    main()
