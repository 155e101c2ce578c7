"""`radio schedule ...`: add, list, remove, pause, resume.

Each change is written to the store (the truth the scheduler reads every tick) and then
published as the retained `schedule` message, which wakes the scheduler at once: changes
take effect without restarting the station.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from radio.bus import publish_once
from radio.cli.common import console, context, err_console, fail, run
from radio.messages import ScheduleChanged
from radio.shows import schedule as sched
from radio.worker import Context

app = typer.Typer(no_args_is_help=True)


def _publish(ctx: Context) -> None:
    message = sched.schedule_message(ctx.store)
    try:
        run(publish_once(ctx.settings, ScheduleChanged.TOPIC, message.to_json(), retain=True))
    except Exception as exc:  # saved anyway: the scheduler reads the store every tick
        err_console.print(f"[yellow]warning:[/] saved, but the broker at "
                          f"{ctx.settings.broker()!r} is unreachable ({exc}); the scheduler "
                          f"picks the change up within {ctx.settings.scheduler.tick_s:.0f} s")


@app.command("add")
def add(
    kind: str = typer.Argument(..., help="daily, weekly, latest or deep_dive"),
    at: str = typer.Option(None, "--at", help="Local time HH:MM (default 09:00; weekly 18:00)."),
    days: str = typer.Option(None, "--days",
                             help="mon-fri, sat,sun, daily (default: daily mon-fri, weekly sun)."),
    tz: str = typer.Option(None, "--tz", help="IANA time zone (default: scheduler.timezone)."),
    categories: list[str] = typer.Option(None, "--categories",
                                         help="arXiv categories (default: the station's)."),
    length: str = typer.Option(None, "--length", help="e.g. 30m, 1h (default per kind)."),
) -> None:
    """Schedule a show: e.g. `radio schedule add daily --at 09:00 --days mon-fri
    --tz Europe/Helsinki`."""
    ctx = context()
    try:
        show_kind = sched.parse_kind(kind)
        default_at, default_days = ("18:00", "sun") if kind == "weekly" else ("09:00", "mon-fri")
        at_value = sched.parse_at(default_at if at is None else at)
        day_list = sched.parse_days(default_days if days is None else days)
        zone = sched.parse_tz(ctx.settings.scheduler.timezone if tz is None else tz)
        cats = sched.parse_categories(categories or [])
        seconds = (sched.default_length(ctx.settings, kind) if length is None
                   else sched.parse_length(length))
    except sched.BadSchedule as exc:
        fail(str(exc))
    entry_id = sched.add_entry(ctx.store, show_kind, at_value, day_list, zone, cats, seconds)
    _publish(ctx)
    entry = next(e for e in sched.load_entries(ctx.store) if e.id == entry_id)
    console.print(f"scheduled [bold]{entry_id}[/]: {kind} at {at_value} {','.join(day_list)} "
                  f"{zone}; next run {_when(entry.next_run, zone)}")


def _when(moment: datetime | None, tz: str) -> str:
    if moment is None:
        return "-"
    local = moment.astimezone(ZoneInfo(tz))
    return f"{local:%a %Y-%m-%d %H:%M %Z} ({moment.astimezone(UTC):%H:%M} UTC)"


@app.command("list")
def list_(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Every scheduled show, with its next run time."""
    entries = sched.load_entries(context().store)
    if as_json:
        console.print_json(ScheduleChanged(entries=entries).model_dump_json())
        return
    table = Table("id", "kind", "at", "days", "tz", "length", "categories", "state", "next run")
    for e in entries:
        table.add_row(str(e.id), e.kind, e.at, ",".join(e.days), e.tz, f"{e.length_s // 60}m",
                      ",".join(e.categories) or "(station's)",
                      "[yellow]paused[/]" if e.paused else "[green]active[/]",
                      _when(e.next_run, e.tz))
    console.print(table)


def _change(entry_id: int, action: str) -> None:
    ctx = context()
    changed = {"remove": lambda: sched.remove_entry(ctx.store, entry_id),
               "pause": lambda: sched.set_paused(ctx.store, entry_id, True),
               "resume": lambda: sched.set_paused(ctx.store, entry_id, False)}[action]()
    if not changed:
        fail(f"no scheduled show with id {entry_id} (see `radio schedule list`)")
    _publish(ctx)
    done = {"remove": "removed", "pause": "paused", "resume": "resumed"}[action]
    console.print(f"{done} schedule {entry_id}")


@app.command("remove")
def remove(entry_id: int = typer.Argument(..., metavar="ID")) -> None:
    """Remove a scheduled show."""
    _change(entry_id, "remove")


@app.command("pause")
def pause(entry_id: int = typer.Argument(..., metavar="ID")) -> None:
    """Pause a scheduled show (it keeps its place in the list)."""
    _change(entry_id, "pause")


@app.command("resume")
def resume(entry_id: int = typer.Argument(..., metavar="ID")) -> None:
    """Resume a paused show; missed runs are not made up."""
    _change(entry_id, "resume")
