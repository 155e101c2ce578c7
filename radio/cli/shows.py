"""`radio show ...`: run one now, list, print a script.

`radio show run daily` asks the station's writer for the show (publishes `shows/requested`);
with `--now` this command writes it itself, in this process, and announces it.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from radio.artifacts import InvalidId, safe_show_id
from radio.bus import publish_once
from radio.cli.common import console, context, err_console, fail, run
from radio.messages import ShowRequested, ShowWritten
from radio.shows import schedule as sched
from radio.shows.papers import NoPapers, select_papers
from radio.shows.records import record_request, record_written, show_status
from radio.shows.script import Script, load_script, render_text, save_script, script_path
from radio.worker import Context

app = typer.Typer(no_args_is_help=True)


def _request(ctx: Context, kind: str, day: str | None, length: str | None,
             categories: list[str] | None, papers: list[str] | None,
             show_id: str | None) -> ShowRequested:
    """The request, after checking every input; raises BadSchedule with the reason."""
    show_kind = sched.parse_kind(kind)
    tz = ZoneInfo(ctx.settings.scheduler.timezone)
    now = datetime.now(UTC).astimezone(tz)
    try:
        when = date.fromisoformat(day) if day else now.date()
    except ValueError:
        raise sched.BadSchedule(f"bad date {day!r}; use YYYY-MM-DD") from None
    seconds = sched.parse_length(length) if length is not None else {
        "daily": ctx.settings.writer.daily_length_s, "weekly": ctx.settings.writer.weekly_length_s,
        "latest": ctx.settings.scheduler.latest_length_s,
    }.get(kind, ctx.settings.scheduler.deep_dive_length_s)
    default_id = f"{kind}-{when.isoformat()}" + (f"-{now:%H%M}" if kind == "latest" else "")
    if kind == "deep_dive" and papers:
        default_id = f"deep_dive-{papers[0].replace('/', '-').lower()}"
    try:
        sid = safe_show_id(show_id or default_id)
    except InvalidId as exc:
        raise sched.BadSchedule(str(exc)) from None
    return ShowRequested(show_id=sid, kind=show_kind, date=when.isoformat(),
                         categories=sched.parse_categories(categories or []), length_s=seconds,
                         paper_ids=list(papers or []))


@app.command("run")
def run_show(
    kind: str = typer.Argument(..., help="daily, weekly, latest or deep_dive"),
    day: str = typer.Option(None, "--date", help="The day the show covers (YYYY-MM-DD)."),
    now: bool = typer.Option(False, "--now", help="Write it here and now, not via the writer."),
    length: str = typer.Option(None, "--length", help="e.g. 30m (default per kind)."),
    categories: list[str] = typer.Option(None, "--categories", help="arXiv categories."),
    papers: list[str] = typer.Option(None, "--paper", help="Cover exactly these papers."),
    show_id: str = typer.Option(None, "--id", help="Show id (default: KIND-DATE)."),
) -> None:
    """Run a show now: publish the request, or with --now write it in this process."""
    ctx = context()
    try:
        request = _request(ctx, kind, day, length, categories, papers, show_id)
        select_papers(ctx.store, request, ctx.settings)
    except (sched.BadSchedule, NoPapers) as exc:
        fail(str(exc))
    status = show_status(ctx.store, request.show_id)
    if status in ("written", "voiced", "recorded"):
        fail(f"show {request.show_id} is already {status}; see `radio show print "
             f"{request.show_id}`, or pass --id for a new show")
    if now:
        _write_here(ctx, request)
        return
    try:
        run(publish_once(ctx.settings, ShowRequested.TOPIC, request.to_json()))
    except Exception as exc:
        fail(f"cannot reach the broker at {ctx.settings.broker()!r} ({exc}); "
             "is the station up? (or use --now)")
    record_request(ctx.store, request)
    console.print(f"requested [bold]{request.show_id}[/] ({request.kind}, {request.date}, "
                  f"{request.length_s // 60} min); the writer will announce it on shows/written")


def _write_here(ctx: Context, request: ShowRequested) -> None:
    from radio.backends.llm import LLMError, load_llm
    from radio.shows.writing import write_show

    try:
        llm = load_llm(ctx.settings.llm)
    except LLMError as exc:
        err_console.print(f"[yellow]warning:[/] no LLM ({exc}); writing from the papers' "
                          "own words")
        llm = None
    record_request(ctx.store, request)
    with console.status(f"writing {request.show_id} ..."):
        script = write_show(ctx.settings, ctx.store, ctx.data, llm, request)
    save_script(ctx.data, script)
    record_written(ctx.store, ctx.data, script)
    console.print(f"wrote [bold]{script.show_id}[/]: {len(script.lines)} lines, "
                  f"~{script.estimated_s / 60:.1f} min, grounding {script.grounding_rate:.0%}, "
                  f"in {script.writing_s:.0f} s -> {script_path(ctx.data, script.show_id)}")
    for problem in script.problems:
        err_console.print(f"[yellow]check:[/] {problem}")
    _announce(ctx, script)


@app.command("announce")
def announce(show_id: str = typer.Argument(..., help="A written show's id.")) -> None:
    """Announce a written show again (shows/written): the voices and the recorder take it."""
    ctx = context()
    try:
        script = load_script(ctx.data, safe_show_id(show_id))
    except (InvalidId, OSError, ValueError) as exc:
        fail(f"no script for show {show_id!r} ({exc})")
    _announce(ctx, script)
    console.print(f"announced [bold]{script.show_id}[/] ({len(script.lines)} lines)")


def _announce(ctx: Context, script: Script) -> None:
    written = ShowWritten(show_id=script.show_id, kind=script.kind, title=script.title,
                          script=ctx.data.artifact(script_path(ctx.data, script.show_id)),
                          lines=len(script.lines), estimated_s=round(script.estimated_s, 1),
                          paper_ids=script.paper_ids)
    try:
        run(publish_once(ctx.settings, ShowWritten.TOPIC, written.to_json()))
    except Exception as exc:
        err_console.print(f"[yellow]warning:[/] not announced: broker unreachable ({exc})")


@app.command("list")
def list_(
    limit: int = typer.Option(30, help="Newest shows to list."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Shows, newest first: id, kind, date, status, title."""
    rows = context().store.shows(limit)
    if as_json:
        console.print_json(json.dumps([dict(r) for r in rows]))
        return
    table = Table("show", "kind", "date", "status", "papers", "title", "updated")
    for r in rows:
        table.add_row(r["show_id"], r["kind"], r["date"], r["status"], str(r["papers"]),
                      r["title"], r["updated_at"][:19])
    console.print(table)


@app.command("print")
def print_(
    show_id: str = typer.Argument(..., metavar="SHOW_ID"),
    as_json: bool = typer.Option(False, "--json", help="Print the stored JSON."),
) -> None:
    """A show's script, readable: rundown, then who says what."""
    ctx = context()
    try:
        path = script_path(ctx.data, show_id)
    except InvalidId as exc:
        fail(str(exc))
    if not path.is_file():
        fail(f"no script for show {show_id!r} (see `radio show list`)")
    if as_json:
        typer.echo(path.read_text())
        return
    typer.echo(render_text(load_script(ctx.data, show_id)), nl=False)
