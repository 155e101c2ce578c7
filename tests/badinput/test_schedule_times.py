"""Schedules with times that do not exist: a zone that does not exist is refused where it
is given; a wall-clock time that a daylight-saving change skips or repeats fires once.

(Bad times, days and zones given to `radio schedule add` and in starter shows:
tests/shows/test_schedule.py.)
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from radio.config import SchedulerSettings
from radio.messages import ScheduleEntry
from radio.shows import schedule as sched
from tests.support.procs import ROOT

BERLIN = "Europe/Berlin"  # 2027-03-28 02:00 -> 03:00; 2027-10-31 03:00 -> 02:00


def entry(at: str, tz: str = BERLIN) -> ScheduleEntry:
    return ScheduleEntry(id=1, kind="daily", at=at, days=list(sched.DAYS), tz=tz,
                         length_s=600)


def runs(at: str, start: datetime, hours: int) -> list[datetime]:
    found, now = [], start
    while True:
        now = sched.next_run(entry(at), now)
        if now > start + timedelta(hours=hours):
            return found
        found.append(now)


def test_a_time_the_clock_skips_fires_once_an_hour_late() -> None:
    fired = runs("02:30", datetime(2027, 3, 27, 12, tzinfo=UTC), 24)
    assert fired == [datetime(2027, 3, 28, 1, 30, tzinfo=UTC)]  # 03:30 summer time


def test_a_time_the_clock_repeats_fires_once() -> None:
    fired = runs("02:30", datetime(2027, 10, 30, 12, tzinfo=UTC), 24)
    assert fired == [datetime(2027, 10, 31, 0, 30, tzinfo=UTC)]  # the first 02:30 (CEST)


def test_show_ids_stay_one_per_local_day_across_the_changes() -> None:
    for day in ("2027-03-28", "2027-10-31"):
        due = sched.next_run(entry("02:30"), datetime.fromisoformat(f"{day}T00:00:00+00:00")
                             - timedelta(hours=3))
        assert sched.show_request(entry("02:30"), due).show_id == f"daily-{day}"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "", "UTC+25"])
def test_a_zone_that_does_not_exist_is_refused_in_the_settings(zone: str) -> None:
    with pytest.raises(ValidationError, match="unknown time zone"):
        SchedulerSettings(timezone=zone)


def test_the_station_will_not_start_on_a_zone_that_does_not_exist(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "RADIO_CONFIG": str(tmp_path / "none.toml"),
           "RADIO_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT),
           "RADIO_SCHEDULER__TIMEZONE": "Mars/Olympus_Mons", "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "radio", "up"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "unknown time zone 'Mars/Olympus_Mons'" in done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
