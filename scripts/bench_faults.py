"""Fault figures as JSON: each worker SIGKILLed mid-work, and mosquitto restarted.

    .venv/bin/python scripts/bench_faults.py [--postgres] [--skip-kill] [--skip-broker]

`kill`: the scenario of tests/faults/test_kill_workers.py (ten `radio worker` processes on
a real mosquitto, three corpus papers from the arXiv stand-in, a one-minute daily show on
the tiny model and flite voices); each worker is killed once with SIGKILL while it holds
work and started again at once. Per worker: when it was killed, whether it held work,
seconds from its restart to its `online` status, lost and duplicate items (both must be 0);
temp files left under the data root (must be none).

`broker`: mosquitto (persistence on, shared subscriptions on) restarted while the fetcher
and pdf and embeddings work on the same papers: seconds from the restart until each
worker's status is published again, and whether every paper was parsed and embedded.

With `--postgres` the station's store is a fresh PostgreSQL database (needs initdb).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from radio.store import Store  # noqa: E402
from tests.faults.test_broker_restart import (  # noqa: E402
    PAPERS,
    restart_mid_run,
    station,
)
from tests.faults.test_kill_workers import run_scenario  # noqa: E402
from tests.support.arxiv_standin import ArxivStandIn  # noqa: E402
from tests.support.mosquitto import Mosquitto  # noqa: E402
from tests.support.postgres import Postgres  # noqa: E402


async def kill_figures(folder: Path, database_url: str | None) -> dict:
    broker = Mosquitto(folder / "mosquitto").start()
    try:
        with ArxivStandIn() as arxiv:
            return await run_scenario(folder, broker, arxiv, database_url)
    finally:
        broker.stop()


async def broker_figures(folder: Path, database_url: str | None) -> dict:
    broker = Mosquitto(folder / "mosquitto").start()
    try:
        with ArxivStandIn() as arxiv:
            arxiv.listing("cs.CL", PAPERS)
            workers = station(folder, broker, arxiv, database_url)
            store = Store.open(workers.settings)
            try:
                return await restart_mid_run(workers, broker, store)
            finally:
                store.close()
                await asyncio.to_thread(workers.stop_all)
    finally:
        broker.stop()




async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--skip-kill", action="store_true")
    parser.add_argument("--skip-broker", action="store_true")
    args = parser.parse_args()
    out: dict = {"store": "postgresql" if args.postgres else "sqlite"}
    with tempfile.TemporaryDirectory(prefix="bench-faults-") as tmp:
        folder = Path(tmp)
        pg = Postgres(folder / "pg").start() if args.postgres else None
        try:
            url = pg.fresh_database("kill") if pg else None
            if not args.skip_kill:
                out["kill"] = await kill_figures(folder / "kill", url)
            url = pg.fresh_database("broker") if pg else None
            if not args.skip_broker:
                out["broker"] = await broker_figures(folder / "broker", url)
        finally:
            if pg:
                pg.stop()
    print(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    asyncio.run(main())
