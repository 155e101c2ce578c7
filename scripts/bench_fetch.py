"""Fetcher throughput on the corpus against the local arXiv stand-in (prints JSON).

Two figures: the fetcher's own cost per paper (the 3 s rule switched off, so the
time is listing + API + OAI + download + sha256 + store), and what arXiv's rule
allows in a real hour, from the requests the fetcher actually made per paper.
Run: .venv/bin/python scripts/bench_fetch.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from radio.artifacts import DataRoot
from radio.config import Settings
from radio.ingest.ingestor import Ingestor
from radio.store import Store
from tests.support.arxiv_standin import ArxivStandIn

RULE_S = 3.0  # arXiv: at least 3 s between requests


async def one_round(standin: ArxivStandIn, ids: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        settings = standin.configure(Settings(data_dir=Path(tmp)), min_request_interval_s=0.0)
        settings = settings.model_copy(update={"categories": ["cs.CL"]})
        store = Store(settings.database_path)
        ingestor = Ingestor(settings, store, DataRoot(settings.data_dir))
        standin.clear_log()
        start, cpu = time.perf_counter(), time.process_time()
        outcomes = await ingestor.poll()
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        await ingestor.aclose()
        store.close()
    fetched = [o.message for o in outcomes if o.message]
    if len(fetched) != len(ids):
        raise SystemExit(f"fetched {len(fetched)} of {len(ids)}: {outcomes}")
    return {"wall_s": wall, "cpu_s": cpu, "requests": len(standin.requests),
            "bytes": sum(m.pdf.bytes for m in fetched)}


async def main(rounds: int) -> dict:
    with ArxivStandIn() as standin:
        ids = sorted(f"{p.arxiv_id}v{p.version}" for papers in standin.papers.values()
                     for p in papers if p.version)
        standin.listing("cs.CL", ids)
        runs = [await one_round(standin, ids) for _ in range(rounds)]
    best = min(runs, key=lambda r: r["wall_s"])
    per_paper = best["requests"] / len(ids)
    return {
        "papers": len(ids),
        "rounds": rounds,
        "pdf_mb": round(best["bytes"] / 1e6, 1),
        "wall_s": round(best["wall_s"], 2),
        "cpu_s": round(best["cpu_s"], 2),
        "fetcher_papers_per_hour_no_spacing": round(3600 * len(ids) / best["wall_s"]),
        "requests_per_paper": round(per_paper, 2),
        "arxiv_rule_papers_per_hour": round(3600 / (RULE_S * per_paper)),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "note": "corpus PDFs served from 127.0.0.1 (licence in the feed, so no OAI "
                "requests); the rule-bound rate ignores transfer time from arxiv.org",
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    print(json.dumps(asyncio.run(main(parser.parse_args().rounds)), indent=2))
