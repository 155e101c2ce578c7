"""A scheduler killed between claiming a due show and publishing it does not lose the show:
the claim and the show's row are one transaction, and the next scheduler to start
announces requested shows again (the writer's inbox takes a show id once). On SQLite and
on PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

import pytest

from radio.config import Settings
from radio.messages import Message, ShowRequested
from radio.shows import schedule as sched
from radio.worker import Context
from radio.workers.scheduler import SchedulerWorker
from tests.support.harness import BusProbe


class Killed(Exception):
    """The process died here."""


class DiesBeforePublishing(SchedulerWorker):
    async def publish(self, message: Message, *, retain: bool = False) -> None:
        if isinstance(message, ShowRequested):
            raise Killed(message.show_id)
        await super().publish(message, retain=retain)


class RunningClock:
    """Station time from `start`, running at `rate` times the wall clock."""

    def __init__(self, start: datetime, rate: float = 1.0) -> None:
        self.start, self.rate, self.t0 = start, rate, time.monotonic()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=(time.monotonic() - self.t0) * self.rate)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.rate)


@pytest.mark.usefixtures("database_url")
@pytest.mark.slow
async def test_a_show_claimed_by_a_dying_scheduler_is_announced_by_the_next(
        settings: Settings, ctx: Context) -> None:
    entry_id = ctx.store.add_schedule("daily", "09:00", sched.DAYS, "UTC", [], 180)
    due = sched.load_entries(ctx.store)[0].next_run
    assert due is not None
    async with BusProbe(settings, [ShowRequested.TOPIC]) as probe:
        dying = DiesBeforePublishing(ctx, "a", clock=RunningClock(due - timedelta(seconds=1)))
        with pytest.raises(Killed):
            await asyncio.wait_for(dying.run(), 30)
        show_id = f"daily-{due.date().isoformat()}"
        assert ctx.store.show(show_id)["status"] == "requested"  # claimed, never announced
        assert ctx.store.schedule_row(entry_id)["last_run"] == due.isoformat()
        await asyncio.sleep(0.5)
        assert probe.messages(ShowRequested) == []
        after = SchedulerWorker(ctx, "b", clock=RunningClock(due + timedelta(seconds=5)))
        task = asyncio.create_task(after.run())
        try:
            fired = await probe.expect(ShowRequested, timeout=30)
            assert fired.show_id == show_id and fired.schedule_id == entry_id
            await asyncio.sleep(1.5)  # it ticks on: the show is not fired a second time
            assert [m.show_id for m in probe.messages(ShowRequested)] == [show_id]
            assert after.fired == []  # announced again, not fired again
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
