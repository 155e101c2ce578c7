"""The show schedule: parsing what an operator types, the `schedule` table, next run times.

Times are wall-clock times in the entry's own time zone (zoneinfo), so "09:00
Europe/Helsinki" stays 09:00 across daylight-saving changes. Show ids are stable per kind
and local date (`daily-2026-11-21`), so a show fired twice is handled once.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from radio.config import Settings
from radio.messages import ScheduleChanged, ScheduleEntry, ShowKind, ShowRequested
from radio.store import Operations, Store, now_iso

SEEDED_KEY = "schedule.starter_shows_seeded"
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
KINDS: tuple[ShowKind, ...] = ("daily", "weekly", "latest", "deep_dive")
_AT = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_LENGTH = re.compile(r"^(\d+(?:\.\d+)?)\s*(h|hours?|m|min|minutes?|s|sec|seconds?)?$")
_CATEGORY = re.compile(r"^[a-z][a-z-]*(?:\.[A-Za-z][A-Za-z-]*)?$")


class BadSchedule(ValueError):
    """Operator input that cannot be scheduled; the message says why, in one line."""


def parse_kind(kind: str) -> ShowKind:
    if kind not in KINDS:
        raise BadSchedule(f"unknown show kind {kind!r}; use one of: {', '.join(KINDS)}")
    return kind


def parse_at(at: str) -> str:
    match = _AT.match(at.strip())
    if not match:
        raise BadSchedule(f"bad time {at!r}; use HH:MM, 24-hour (e.g. 09:00)")
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def parse_days(days: str) -> list[str]:
    """`mon-fri`, `sat,sun`, `daily` / `all` or `weekdays` / `weekends`."""
    text = days.strip().lower()
    named = {"daily": DAYS, "all": DAYS, "weekdays": DAYS[:5], "weekends": DAYS[5:]}
    if text in named:
        return list(named[text])
    found: list[str] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        first, _, last = part.partition("-")
        if first[:3] not in DAYS or (last and last[:3] not in DAYS):
            raise BadSchedule(f"bad days {days!r}; use e.g. mon-fri, sat,sun or daily")
        start, end = DAYS.index(first[:3]), DAYS.index((last or first)[:3])
        span = range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)]
        found += [DAYS[i] for i in span]
    if not found:
        raise BadSchedule(f"bad days {days!r}; use e.g. mon-fri, sat,sun or daily")
    return [d for d in DAYS if d in found]


def parse_tz(tz: str) -> str:
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadSchedule(f"unknown time zone {tz!r}; use an IANA name like Europe/Helsinki")\
            from None
    return tz


def parse_length(length: str) -> int:
    """`30m`, `45min`, `1h`, `90s` or plain seconds."""
    match = _LENGTH.match(length.strip().lower())
    if not match:
        raise BadSchedule(f"bad length {length!r}; use e.g. 30m, 1h or 900s")
    unit = (match.group(2) or "s")[0]
    seconds = int(float(match.group(1)) * {"h": 3600, "m": 60, "s": 1}[unit])
    if not 60 <= seconds <= 6 * 3600:
        raise BadSchedule(f"length {length!r} out of range (1 minute to 6 hours)")
    return seconds


def parse_categories(categories: list[str]) -> list[str]:
    cats = [c.strip() for item in categories for c in item.split(",") if c.strip()]
    bad = [c for c in cats if not _CATEGORY.match(c)]
    if bad:
        raise BadSchedule(f"bad arXiv category {bad[0]!r}; use e.g. cs.CL")
    return cats


def next_run(entry: ScheduleEntry, after: datetime) -> datetime:
    """The first time strictly after `after` that the entry fires (UTC)."""
    zone = ZoneInfo(entry.tz)
    hour, minute = (int(x) for x in entry.at.split(":"))
    local = after.astimezone(zone)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if DAYS[day.weekday()] not in entry.days:
            continue
        candidate = datetime.combine(day, time(hour, minute), zone).astimezone(UTC)
        if candidate > after:
            return candidate
    raise BadSchedule(f"schedule {entry.id} has no days")


def show_request(entry: ScheduleEntry, due: datetime) -> ShowRequested:
    """The request an entry makes at `due`; its id is stable for the entry's local date."""
    day = due.astimezone(ZoneInfo(entry.tz)).date().isoformat()
    show_id = f"{entry.kind}-{day}"
    if entry.kind == "latest":
        show_id += f"-{due.astimezone(ZoneInfo(entry.tz)):%H%M}"
    return ShowRequested(show_id=show_id, kind=entry.kind, date=day,
                         categories=entry.categories, length_s=entry.length_s,
                         schedule_id=entry.id)


# --- the table ----------------------------------------------------------------------------


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def load_entries(store: Store, now: datetime | None = None) -> list[ScheduleEntry]:
    """Every entry, with its next run time after `now` (none when paused)."""
    now = now or datetime.now(UTC)
    entries = []
    for row in store.schedule_rows():
        entry = ScheduleEntry(id=row["id"], kind=row["kind"], at=row["at"],
                              days=json.loads(row["days"]), tz=row["tz"],
                              categories=json.loads(row["categories"]), length_s=row["length_s"],
                              paused=bool(row["paused"]))
        if not entry.paused:
            entry = entry.model_copy(update={"next_run": next_run(entry, now)})
        entries.append(entry)
    return entries


def last_run(store: Store, entry_id: int) -> datetime | None:
    """When the entry last fired, or (never fired) when it was created."""
    row = store.schedule_row(entry_id)
    return _parse_time(row["last_run"] or row["created_at"]) if row else None


def set_last_run(store: Store, entry_id: int, when: datetime) -> None:
    store.set_last_run(entry_id, when.isoformat())


def run_marker(store: Store, entry_id: int) -> str | None:
    """The entry's last run as stored (what `claim_run` compares against)."""
    row = store.schedule_row(entry_id)
    return row["last_run"] if row else None


def claim_run(store: Operations, entry_id: int, seen: str | None,
              due: datetime) -> bool:
    """Move the entry's last run from `seen` (read before deciding it is due) to `due`;
    True for the one scheduler that did it, however many race for the show."""
    return store.claim_schedule_run(entry_id, seen, due.isoformat())


def add_entry(store: Store, kind: ShowKind, at: str, days: list[str], tz: str,
              categories: list[str], length_s: int, created_at: datetime | None = None) -> int:
    return store.add_schedule(kind, at, days, tz, categories, length_s,
                              created_at.isoformat() if created_at else None)


def remove_entry(store: Store, entry_id: int) -> bool:
    return store.remove_schedule(entry_id)


def set_paused(store: Store, entry_id: int, paused: bool) -> bool:
    # Resuming starts afresh: shows missed while paused do not all fire at once.
    return store.set_schedule_paused(entry_id, paused)


def default_length(settings: Settings, kind: str) -> int:
    writer, scheduler = settings.writer, settings.scheduler
    return {"daily": writer.daily_length_s, "weekly": writer.weekly_length_s,
            "latest": scheduler.latest_length_s}.get(kind, scheduler.deep_dive_length_s)


def seed_starter_shows(store: Store, settings: Settings) -> list[int]:
    """Schedule `scheduler.starter_shows`, once in the life of the store.

    A fresh station should have its daily and weekly shows without an operator typing
    anything; an operator who then removes one must not see it come back at a restart.
    """
    starters = settings.scheduler.starter_shows
    try:
        tz = parse_tz(settings.scheduler.timezone)
        entries = [(parse_kind(s.kind), parse_at(s.at), parse_days(s.days)) for s in starters]
    except BadSchedule as exc:
        raise BadSchedule(f"scheduler.starter_shows: {exc}") from None
    if not entries:
        return []
    # one claim, so two schedulers starting together seed once
    if not store.claim_kv(SEEDED_KEY, now_iso()):
        return []
    return [add_entry(store, kind, at, days, tz, [], default_length(settings, kind))
            for kind, at, days in entries]


def schedule_message(store: Store) -> ScheduleChanged:
    return ScheduleChanged(entries=load_entries(store))
