"""The schedule: parsing operator input, time zones, the CLI, and the scheduler firing."""

from __future__ import annotations

import asyncio
import json
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from radio.cli import app
from radio.config import SchedulerSettings, Settings, StarterShow
from radio.messages import ScheduleChanged, ScheduleEntry, ShowRequested
from radio.shows import schedule as sched
from radio.store import Store
from radio.worker import Context
from radio.workers.scheduler import SchedulerWorker
from tests.support.harness import BusProbe
from tests.support.procs import ROOT
from tests.support.settings import make_settings

runner = CliRunner()


def entry(**kw: object) -> ScheduleEntry:
    base = {"id": 1, "kind": "daily", "at": "09:00", "days": sched.DAYS[:5],
            "tz": "Europe/Helsinki", "length_s": 1800}
    return ScheduleEntry(**{**base, **kw})


def test_next_run_is_local_time_on_the_given_days() -> None:
    # Saturday 21 November 2026, 10:00 UTC: the next weekday 09:00 in Helsinki (UTC+2)
    # is Monday 23 November, 07:00 UTC.
    after = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
    assert sched.next_run(entry(), after) == datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    weekly = entry(kind="weekly", at="18:00", days=["sun"])
    assert sched.next_run(weekly, after) == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)


def test_next_run_follows_daylight_saving() -> None:
    # Helsinki moves to UTC+3 on 29 March 2026: 09:00 local is 06:00 UTC from then on.
    before = sched.next_run(entry(days=sched.DAYS), datetime(2026, 3, 27, 12, tzinfo=UTC))
    after = sched.next_run(entry(days=sched.DAYS), datetime(2026, 3, 30, 12, tzinfo=UTC))
    assert (before.hour, after.hour) == (7, 6)


def test_show_ids_are_stable_per_local_day() -> None:
    due = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    first = sched.show_request(entry(), due)
    again = sched.show_request(entry(), due + timedelta(minutes=3))
    assert first.show_id == "daily-2026-11-23"
    assert first.id == again.id  # the same message id: the writer handles it once


@pytest.mark.parametrize("text,expected", [
    ("mon-fri", sched.DAYS[:5]), ("sat,sun", ["sat", "sun"]), ("daily", sched.DAYS),
    ("fri-mon", ["mon", "fri", "sat", "sun"]),
])
def test_days(text: str, expected: list[str]) -> None:
    assert sched.parse_days(text) == expected


@pytest.mark.parametrize("args,message", [
    (["add", "nightly"], "unknown show kind"),
    (["add", "daily", "--at", "25:00"], "bad time"),
    (["add", "daily", "--at", "9am"], "bad time"),
    (["add", "daily", "--tz", "Mars/Olympus_Mons"], "unknown time zone"),
    (["add", "daily", "--days", "someday"], "bad days"),
    (["add", "daily", "--length", "forever"], "bad length"),
    (["remove", "99"], "no scheduled show with id 99"),
])
def test_bad_input_is_one_clear_line_and_changes_nothing(
        settings: Settings, monkeypatch: pytest.MonkeyPatch, args: list[str],
        message: str) -> None:
    monkeypatch.setenv("RADIO_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("COLUMNS", "200")  # one line, not wrapped by the terminal width
    result = runner.invoke(app, ["schedule", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert len([ln for ln in result.output.splitlines() if ln.strip()]) == 1
    store = Store(settings.database_path)
    assert store.schedule_rows() == []
    store.close()


def _env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("RADIO_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RADIO_BUS__EMBEDDED_PORT", str(settings.bus.embedded_port))
    if settings.database_url:
        monkeypatch.setenv("RADIO_DATABASE_URL", settings.database_url)


async def test_cli_changes_are_stored_and_published(settings: Settings,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, settings)
    async with BusProbe(settings, [ScheduleChanged.TOPIC]) as probe:
        add = await asyncio.to_thread(runner.invoke, app, [
            "schedule", "add", "daily", "--at", "09:00", "--days", "mon-fri",
            "--tz", "Europe/Helsinki", "--categories", "cs.CL,cs.AI", "--length", "30m"])
        assert add.exit_code == 0, add.output
        changed = await probe.expect(ScheduleChanged, timeout=10)
        assert [(e.kind, e.at, e.tz, e.categories, e.length_s) for e in changed.entries] == [
            ("daily", "09:00", "Europe/Helsinki", ["cs.CL", "cs.AI"], 1800)]
        assert changed.entries[0].next_run is not None

        listed = await asyncio.to_thread(runner.invoke, app, ["schedule", "list", "--json"])
        assert json.loads(listed.output)["entries"][0]["days"] == sched.DAYS[:5]

        paused = await asyncio.to_thread(runner.invoke, app, ["schedule", "pause", "1"])
        assert paused.exit_code == 0, paused.output
        changed = await probe.expect(ScheduleChanged, timeout=10, count=2)
        assert changed.entries[0].paused and changed.entries[0].next_run is None

        removed = await asyncio.to_thread(runner.invoke, app, ["schedule", "remove", "1"])
        assert removed.exit_code == 0, removed.output
        changed = await probe.expect(ScheduleChanged, timeout=10, count=3)
        assert changed.entries == []


class FastClock:
    """Time that starts where the test says and runs `speed` times faster than real time."""

    def __init__(self, start: datetime, speed: float) -> None:
        self.start, self.speed = start, speed
        self.loop_start = asyncio.get_running_loop().time()

    def now(self) -> datetime:
        elapsed = asyncio.get_running_loop().time() - self.loop_start
        return self.start + timedelta(seconds=elapsed * self.speed)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)


@pytest.mark.usefixtures("database_url")
@pytest.mark.slow
async def test_a_schedule_added_by_the_cli_fires_at_its_time(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    _env(monkeypatch, settings)
    ctx = Context.from_settings(settings)
    # Schedule every day at the next full hour in Helsinki, then run the scheduler on a
    # clock that starts 40 simulated seconds before it and runs 20 times faster.
    add = await asyncio.to_thread(runner.invoke, app, [
        "schedule", "add", "daily", "--at", "", "--days", "daily", "--tz", "Europe/Helsinki"])
    assert add.exit_code != 0  # an empty time is refused
    local_now = datetime.now(UTC).astimezone(sched.ZoneInfo("Europe/Helsinki"))
    at = (local_now + timedelta(hours=1)).strftime("%H:00")
    add = await asyncio.to_thread(runner.invoke, app, [
        "schedule", "add", "daily", "--at", at, "--days", "daily", "--tz", "Europe/Helsinki",
        "--length", "3m"])
    assert add.exit_code == 0, add.output
    due = sched.load_entries(ctx.store)[0].next_run
    assert due is not None
    worker = SchedulerWorker(ctx, "test", clock=FastClock(due - timedelta(seconds=40), 20.0))
    async with BusProbe(settings, [ShowRequested.TOPIC]) as probe:
        task = asyncio.create_task(worker.run())
        try:
            await asyncio.sleep(0.5)
            assert probe.messages(ShowRequested) == []  # not before its time
            fired = await probe.expect(ShowRequested, timeout=15)
            assert worker.clock.now() >= due
            local_day = due.astimezone(sched.ZoneInfo("Europe/Helsinki")).date().isoformat()
            assert fired.show_id == f"daily-{local_day}"
            assert (fired.kind, fired.length_s, fired.schedule_id) == ("daily", 180, 1)
            await asyncio.sleep(1.0)  # keeps ticking: the same show is not fired again
            assert len(probe.messages(ShowRequested)) == 1
            row = ctx.store.show(fired.show_id)
            assert row is not None and row["status"] == "requested"
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            ctx.store.close()


@pytest.mark.usefixtures("database_url")
async def test_scheduler_keeps_the_writer_ahead_of_the_air(settings: Settings) -> None:
    from radio.artifacts import DataRoot
    from radio.shows.records import pending_seconds, record_request
    from tests.shows.corpus import DEFAULT_PAPERS, add_papers

    ctx = Context.from_settings(settings)
    add_papers(ctx.store, DataRoot(settings.data_dir), DEFAULT_PAPERS,
               datetime(2026, 11, 20, 6, tzinfo=UTC))
    worker = SchedulerWorker(ctx, "test")
    now = datetime(2026, 11, 21, 12, tzinfo=UTC)
    first = worker._filler(now)
    assert first is not None and first.kind == "latest"  # papers no show has covered
    # Once every paper has aired, the filler is a deep dive into one not yet discussed.
    for pid in ("2304.02623", "2310.07875", "1804.07821"):
        ctx.store.add_show_paper("daily-x", pid, 1, "headline")
    second = worker._filler(now)
    assert second is not None and second.kind == "deep_dive" and len(second.paper_ids) == 1
    # Requested shows count as material on its way, so no second filler is asked for.
    assert pending_seconds(ctx.store) == 0
    record_request(ctx.store, second)
    assert pending_seconds(ctx.store) == second.length_s
    ctx.store.close()


def shipped_scheduler() -> SchedulerSettings:
    """The [scheduler] section of the config the station ships with."""
    with open(ROOT / "config" / "radio.toml", "rb") as shipped:
        return SchedulerSettings(**tomllib.load(shipped)["scheduler"])


@pytest.mark.usefixtures("database_url")
async def test_starter_shows_are_scheduled_once_at_the_first_start(settings: Settings) -> None:
    cfg = settings.model_copy(update={"scheduler": shipped_scheduler()})
    ctx = Context.from_settings(cfg)
    try:
        await SchedulerWorker(ctx, "test").setup()
        entries = sched.load_entries(ctx.store)
        assert [(e.kind, e.at, e.days, e.tz, e.length_s) for e in entries] == [
            ("daily", "09:00", sched.DAYS[:5], "UTC", cfg.writer.daily_length_s),
            ("weekly", "18:00", ["sun"], "UTC", cfg.writer.weekly_length_s)]
        # The operator removes the weekly show; a restart does not bring it back.
        assert sched.remove_entry(ctx.store, entries[1].id)
        await SchedulerWorker(ctx, "test").setup()
        assert [e.kind for e in sched.load_entries(ctx.store)] == ["daily"]
    finally:
        ctx.store.close()


def test_a_bad_starter_show_is_a_clear_error(tmp_path: Path) -> None:
    cfg = make_settings(tmp_path, scheduler=SchedulerSettings(
        starter_shows=[StarterShow(kind="daily", at="9 am", days="mon-fri")]))
    store = Store(cfg.database_path)
    with pytest.raises(sched.BadSchedule, match=r"scheduler\.starter_shows: bad time '9 am'"):
        sched.seed_starter_shows(store, cfg)
    assert sched.load_entries(store) == []
