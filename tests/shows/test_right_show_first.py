"""The right show first: scheduled and operator shows before the scheduler's filler, a filler
in progress yields at a segment boundary, and no filler is asked for without material."""

from __future__ import annotations

import asyncio
import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest

from radio.artifacts import DataRoot
from radio.config import LLMSettings, SchedulerSettings, Settings
from radio.messages import ShowRequested, ShowWritten, WorkerStatus
from radio.shows import writing
from radio.shows.records import record_failed
from radio.store import Store
from radio.worker import Context
from radio.workers.scheduler import SchedulerWorker
from radio.workers.writer import WriterWorker
from tests.shows.corpus import DEFAULT_PAPERS, add_papers
from tests.support.harness import BusProbe, running_worker
from tests.support.ports import free_port

DAY = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
CATEGORIES = ["cs.CL", "cs.CV", "cs.AI"]


def server_down() -> LLMSettings:
    """No LLM (nothing listens): shows are written from the fallback, quickly."""
    return LLMSettings(backend="openai", base_url=f"http://127.0.0.1:{free_port()}/v1",
                       retries=0, timeout_s=5)


def daily(show_id: str = "daily-2026-11-20") -> ShowRequested:
    return ShowRequested(show_id=show_id, kind="daily", date="2026-11-20", length_s=180,
                         categories=CATEGORIES)


def filler_dive(paper: str) -> ShowRequested:
    return ShowRequested(show_id=f"deep_dive-{paper}", kind="deep_dive", date="2026-11-20",
                         length_s=600, categories=CATEGORIES, paper_ids=[paper], filler=True)


async def until(check, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.05)


async def test_operator_and_scheduled_shows_go_before_queued_filler(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings.model_copy(update={"llm": server_down()})
    store = Store(settings.database_path)
    ids = add_papers(store, DataRoot(settings.data_dir), DEFAULT_PAPERS, DAY)
    entered, gate = threading.Event(), threading.Event()
    real = writing.ShowWriter.write

    def held(self: writing.ShowWriter, request: ShowRequested):
        entered.set()
        gate.wait(60)  # the first show is held until the others are queued
        return real(self, request)

    monkeypatch.setattr(writing.ShowWriter, "write", held)
    async with running_worker("writer", settings) as writer, \
            BusProbe(settings, [ShowWritten.TOPIC]) as probe:
        await probe.publish(daily("daily-operator"))       # being written
        await until(entered.is_set)
        await probe.publish(filler_dive(ids[0]))            # queued: filler
        await probe.publish(daily("daily-2026-11-20"))      # queued after it: scheduled
        await until(lambda: writer._queue.qsize() == 2)
        gate.set()
        await probe.expect(ShowWritten, timeout=120, count=3)
        assert [m.show_id for m in probe.messages(ShowWritten)] == [
            "daily-operator", "daily-2026-11-20", f"deep_dive-{ids[0]}"]
    store.close()


async def test_a_filler_in_progress_yields_at_its_next_segment_boundary(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings.model_copy(update={"llm": server_down()})
    store = Store(settings.database_path)
    ids = add_papers(store, DataRoot(settings.data_dir), DEFAULT_PAPERS, DAY)
    in_segment, go_on = threading.Event(), threading.Event()
    real = writing.ShowWriter.write_slot
    segments: list[str] = []

    def watched(self: writing.ShowWriter, slot, *args, **kwargs):
        segments.append(slot.kind)
        if len(segments) == 1:  # the filler's first segment waits for the daily to arrive
            in_segment.set()
            go_on.wait(60)
        return real(self, slot, *args, **kwargs)

    monkeypatch.setattr(writing.ShowWriter, "write_slot", watched)
    async with running_worker("writer", settings) as writer, \
            BusProbe(settings, [ShowWritten.TOPIC]) as probe:
        assert isinstance(writer, WriterWorker)
        await probe.publish(filler_dive(ids[1]))
        await until(in_segment.is_set)
        await probe.publish(daily())
        await until(lambda: writer._queue.qsize() == 1)
        go_on.set()
        await probe.expect(ShowWritten, timeout=120, count=2)
        assert [m.show_id for m in probe.messages(ShowWritten)] == [
            "daily-2026-11-20", f"deep_dive-{ids[1]}"]
        assert writer.yielded == 1 and writer.failed == 0
        # The filler stopped after its first segment, and was written whole afterwards.
        dive = probe.messages(ShowWritten)[1]
        assert dive.paper_ids == [ids[1]] and dive.lines > 0
    store.close()


@pytest.mark.slow
async def test_the_scheduler_asks_for_no_filler_without_material(
        settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    settings = settings.model_copy(update={"scheduler": SchedulerSettings(tick_s=1.0)})
    ctx = Context.from_settings(settings)
    add_papers(ctx.store, DataRoot(settings.data_dir), DEFAULT_PAPERS, DAY)

    class Fast:  # 60 simulated seconds per real second: a filler gap (60 s) is a second
        def __init__(self) -> None:
            self.start = datetime(2026, 11, 21, 12, tzinfo=UTC)
            self.t0 = asyncio.get_running_loop().time()

        def now(self) -> datetime:
            return self.start + timedelta(seconds=60 * (asyncio.get_running_loop().time()
                                                        - self.t0))

        async def sleep(self, seconds: float) -> None:
            await asyncio.sleep(seconds / 60)

    worker = SchedulerWorker(ctx, "test", clock=Fast())
    caplog.set_level(logging.INFO, logger="radio.scheduler")
    async with BusProbe(settings, [ShowRequested.TOPIC, "status/scheduler/#"]) as probe:
        task = asyncio.create_task(worker.run())
        try:
            first = await probe.expect(ShowRequested, timeout=15)
            assert first.kind == "latest" and first.filler
            # The writer has not written it yet: its papers are taken, so nothing new is
            # asked for over five filler gaps, and the status says why, once.
            await asyncio.sleep(5)
            assert len(probe.messages(ShowRequested)) == 1
            note = worker.status_detail().get("note", "")
            assert note.startswith("nothing new to air")
            said = [r for r in caplog.records if "nothing new to air" in r.getMessage()]
            assert len(said) == 1
            statuses = probe.messages(WorkerStatus, topic="status/scheduler/test")
            assert any(s.detail.get("note") == note for s in statuses)
            # The pending show is given up: its papers are free again, a filler is asked for.
            record_failed(ctx.store, first.show_id, "given up")
            second = await probe.expect(ShowRequested, timeout=15, count=2)
            assert second.filler and second.show_id != first.show_id
            assert "note" not in worker.status_detail()
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            ctx.store.close()
