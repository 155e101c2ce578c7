"""mosquitto restarted under the working station, shared subscriptions on: nothing lost.

mosquitto 2.0 forgets shared subscriptions (`$share/<worker>/...`) across a restart, even
with persistence, and drops what is published to a group with no member. The workers'
answer (radio/recovery.py): they subscribe again on every reconnect, and a consumer that
(re)subscribes asks the producers to announce again what its inbox lacks.

Workers run as separate processes (`radio worker NAME`) against a real mosquitto with
persistence, on papers served by the arXiv stand-in from the shared corpus.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import SecretStr

from radio.bus import Bus, Subscription
from radio.config import Settings
from radio.messages import WorkerStatus
from radio.store import Store
from tests.support.arxiv_standin import ArxivStandIn
from tests.support.mosquitto import Mosquitto
from tests.support.procs import spawn, statuses, stop, wait_for
from tests.support.settings import FAST_FETCH, make_settings

pytestmark = pytest.mark.slow

PAPERS = ["2305.03393v1", "2103.15348v2", "1111.2011v2"]  # the corpus's smallest PDFs
FETCHER_POLL_S = "3600"  # one poll at start: the papers are announced once


@pytest.fixture
def arxiv() -> Iterator[ArxivStandIn]:
    with ArxivStandIn() as standin:
        standin.listing("cs.CL", PAPERS)
        yield standin


class Workers:
    """`radio worker NAME` processes on one settings, with their logs."""

    def __init__(self, folder: Path, settings: Settings, env: dict[str, str]) -> None:
        self.folder, self.settings, self.env = folder, settings, env
        self.procs: dict[str, subprocess.Popen] = {}

    def start(self, name: str) -> None:
        self.procs[name] = spawn(["worker", name, "--instance", "fault"], self.settings,
                                 self.folder / f"{name}.log", **self.env)

    def online(self, names: list[str]) -> bool:
        found = {s["worker"]: s["state"] for s in statuses(self.settings).values()
                 if s["instance"] == "fault"}
        return all(found.get(n) == "online" for n in names)

    def wait_online(self, names: list[str], timeout: float = 180) -> None:
        wait_for(lambda: self.online(names), timeout, 1.0, f"{names} online")

    def kill(self, name: str) -> None:
        stop(self.procs[name], signal.SIGKILL)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            stop(proc)

    def logs(self) -> str:
        return "\n".join(f"----- {n} -----\n" + "\n".join(
            (self.folder / f"{n}.log").read_text(errors="replace").splitlines()[-20:])
            for n in self.procs)


def station(tmp_path: Path, broker: Mosquitto, arxiv: ArxivStandIn,
            database_url: str | None = None) -> Workers:
    cfg = make_settings(tmp_path / "data", broker_url=SecretStr(broker.url),
                        database_url=database_url)
    assert cfg.bus.shared_subscriptions, "the point: shared subscriptions on"
    env = {**arxiv.env(**FAST_FETCH, poll_interval_s=FETCHER_POLL_S),
           "RADIO_CATEGORIES": "cs.CL", "RADIO_BUS__SHARED_SUBSCRIPTIONS": "true"}
    if database_url:
        env["RADIO_DATABASE_URL"] = database_url
    return Workers(tmp_path, cfg, env)


def stage_done(store: Store, stage: str) -> set[str]:
    return {f"{r['arxiv_id']}v{r['version']}" for r in store.all_stages()
            if r["stage"] == stage and r["status"] in ("done", "no_text")}


async def test_work_published_to_a_forgotten_shared_group_is_announced_again(
        tmp_path: Path, mosquitto: Mosquitto, arxiv: ArxivStandIn, database_url: str) -> None:
    """The gap made certain: pdf's shared subscription lives only in its session when the
    broker restarts, so the fetcher's PaperFetched find no subscriber and are dropped."""
    workers = station(tmp_path, mosquitto, arxiv, database_url)
    store = Store.open(workers.settings)
    try:
        workers.start("pdf")
        await asyncio.to_thread(workers.wait_online, ["pdf"])
        workers.kill("pdf")
        await asyncio.to_thread(mosquitto.restart)  # the shared subscription is forgotten
        workers.start("fetcher")
        await asyncio.to_thread(wait_for, lambda: len(stage_done(store, "fetch")) == 3, 120,
                                1.0, "3 papers fetched and published")
        fetched_at = time.monotonic()
        workers.start("pdf")  # subscribes again; asks the fetcher for what it missed
        await asyncio.to_thread(wait_for, lambda: len(stage_done(store, "pdf")) == 3, 180,
                                1.0, "3 papers parsed")
        print(f"\nbroker gap: 3 papers parsed {time.monotonic() - fetched_at:.1f}s after pdf "
              "came back", flush=True)
        assert stage_done(store, "pdf") == set(PAPERS)
        announced = (tmp_path / "fetcher.log").read_text()
        assert "announced 3 papers/fetched again (for pdf)" in announced, announced[-2000:]
    except (AssertionError, TimeoutError) as exc:
        raise AssertionError(f"{exc}\n{workers.logs()}") from exc
    finally:
        store.close()
        await asyncio.to_thread(workers.stop_all)


CHAIN = ["pdf", "embeddings", "fetcher"]


class StatusWatch:
    """A reconnecting client that notes when each worker's status was last published."""

    def __init__(self, settings: Settings) -> None:
        self.bus = Bus(settings, f"watch-{time.monotonic_ns()}", persistent=False,
                       subscriptions=(Subscription("status/+/+", shared=False),))
        self.seen: dict[str, list[datetime]] = {}
        self.task: asyncio.Task | None = None

    async def _on(self, topic: str, payload: bytes, retained: bool) -> None:
        with contextlib.suppress(ValueError):
            status = WorkerStatus.from_json(payload)
            if status.state == "online":
                self.seen.setdefault(status.worker, []).append(status.updated_at)

    def first_after(self, worker: str, when: datetime) -> datetime | None:
        return next((t for t in sorted(self.seen.get(worker, [])) if t > when), None)

    async def __aenter__(self) -> StatusWatch:
        self.task = asyncio.create_task(self.bus.run(self._on))
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self.task is not None
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task


async def restart_mid_run(workers: Workers, broker: Mosquitto, store: Store) -> dict:
    """Restart mosquitto while the papers flow; the figures of the run (both the test
    below and scripts/bench_faults.py report them)."""
    async with StatusWatch(workers.settings) as watch:
        for name in CHAIN[:-1]:
            workers.start(name)
        await asyncio.to_thread(workers.wait_online, CHAIN[:-1])
        workers.start("fetcher")
        await asyncio.to_thread(wait_for, lambda: stage_done(store, "fetch"), 120, 0.2,
                                "the first paper fetched")
        restarted = datetime.now(UTC)
        await asyncio.to_thread(broker.restart)
        back = datetime.now(UTC)
        await asyncio.to_thread(wait_for, lambda: all(watch.first_after(n, back) for n in CHAIN),
                                60, 0.5, "every worker back")
        start = time.monotonic()
        await asyncio.to_thread(wait_for, lambda: len(stage_done(store, "embed")) == len(PAPERS),
                                240, 1.0, "every paper embedded")
        return {
            "broker_down_s": round((back - restarted).total_seconds(), 2),
            "reconnect_s": {n: round((watch.first_after(n, back) - restarted).total_seconds(), 2)
                            for n in CHAIN},
            "papers": len(PAPERS),
            "parsed": len(stage_done(store, "pdf")),
            "embedded": len(stage_done(store, "embed")),
            "lost": len(PAPERS) - len(stage_done(store, "embed")),
            "last_paper_embedded_after_reconnect_s": round(time.monotonic() - start, 1),
        }


async def test_broker_restart_mid_run_every_worker_reconnects_nothing_lost(
        tmp_path: Path, mosquitto: Mosquitto, arxiv: ArxivStandIn) -> None:
    """Restart mosquitto while papers flow: each worker is back (time reported) and every
    paper is parsed and embedded, once."""
    workers = station(tmp_path, mosquitto, arxiv)
    store = Store.open(workers.settings)
    try:
        figures = await restart_mid_run(workers, mosquitto, store)
        print(f"\nbroker restart: down {figures['broker_down_s']}s; worker back after (s from "
              f"the restart): {figures['reconnect_s']}", flush=True)
        assert stage_done(store, "pdf") == set(PAPERS)
        assert stage_done(store, "embed") == set(PAPERS)
        assert max(figures["reconnect_s"].values()) < 30, figures
        # Once each: every consumer received one message per paper (an announce repeats
        # the same id, which its inbox drops), and handled each.
        for worker, topic in (("pdf", "papers/fetched"), ("embeddings", "papers/parsed")):
            received = store.inbox_received(worker, topic, "1970-01-01")
            assert len(received) == 3, (worker, topic, len(received))
            assert store.backlog(worker) == 0, worker
    except (AssertionError, TimeoutError) as exc:
        raise AssertionError(f"{exc}\n{workers.logs()}") from exc
    finally:
        store.close()
        await asyncio.to_thread(workers.stop_all)
