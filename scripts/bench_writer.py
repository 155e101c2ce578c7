"""Write one daily show from corpus papers with the default model; print JSON figures.

    .venv/bin/python scripts/bench_writer.py --length 8m --threads 2 \
        --out docs/examples/daily-script

Measures the wall and CPU time to write per minute of show, the grounding rate, and how
many segments the LLM wrote versus the extractive fallback. Papers come from the shared
corpus (metadata from each PDF's first page, text from PyMuPDF). `--out` saves the script
as JSON and as readable Markdown.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from radio.artifacts import DataRoot  # noqa: E402
from radio.backends.llm import load_llm  # noqa: E402
from radio.config import LLMSettings, Settings, WriterSettings  # noqa: E402
from radio.messages import ShowRequested  # noqa: E402
from radio.shows.schedule import parse_length  # noqa: E402
from radio.shows.script import render_markdown  # noqa: E402
from radio.shows.writing import write_show  # noqa: E402
from radio.store import Store  # noqa: E402
from tests.shows.corpus import DAILY_PAPERS, add_papers  # noqa: E402

DAY = "2026-11-20"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", default="8m", help="Show length (e.g. 8m, 30m).")
    parser.add_argument("--papers", type=int, default=6, help="Corpus papers in the show.")
    parser.add_argument("--discussions", type=int, default=2, help="Papers discussed.")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads.")
    parser.add_argument("--out", type=Path, help="Save <out>.json and <out>.md.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")  # to stderr

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data",
                            llm=LLMSettings(n_threads=args.threads),
                            writer=WriterSettings(discussion_count=args.discussions))
        store, data = Store(settings.database_path), DataRoot(settings.data_dir)
        add_papers(store, data, DAILY_PAPERS[:args.papers],
                   datetime.fromisoformat(f"{DAY}T06:00:00+00:00"))
        llm = load_llm(settings.llm)
        request = ShowRequested(show_id=f"daily-{DAY}", kind="daily", date=DAY,
                                length_s=parse_length(args.length),
                                categories=["cs.CL", "cs.CV", "cs.AI"])
        wall, cpu = time.monotonic(), time.process_time()
        script = write_show(settings, store, data, llm, request)
        wall, cpu = time.monotonic() - wall, time.process_time() - cpu
        store.close()

    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".json").write_text(script.model_dump_json(indent=2) + "\n")
        args.out.with_suffix(".md").write_text(render_markdown(script))
    minutes = script.estimated_s / 60
    drafts = [rate for segment in script.segments for rate in segment.draft_grounding]
    print(json.dumps({
        "model": script.model, "threads": args.threads, "papers": len(script.paper_ids),
        "budget_s": request.length_s, "estimated_s": round(script.estimated_s, 1),
        "words": script.words, "lines": len(script.lines),
        "write_wall_s": round(wall, 1), "write_cpu_s": round(cpu, 1),
        "wall_s_per_show_minute": round(wall / minutes, 1),
        "cpu_s_per_show_minute": round(cpu / minutes, 1),
        "grounding_rate": round(script.grounding_rate, 3),
        "llm_draft_grounding_rate": round(sum(drafts) / len(drafts), 3) if drafts else None,
        "llm_drafts": len(drafts),
        "segments_by": dict(Counter(s.source for s in script.segments)),
        "attempts": sum(s.attempts for s in script.segments),
        "show_checks": script.problems,
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(), "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }, indent=2))


if __name__ == "__main__":
    main()
