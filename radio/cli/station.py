"""`radio up`, `radio worker NAME`, `radio status`: run the station and watch it."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from datetime import UTC, datetime

import typer
from rich.cells import cell_len
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from radio import retry, workers
from radio.broker import BrokerUnavailable, EmbeddedBroker
from radio.bus import publish_once, read_retained
from radio.cli.common import console, context, fail, run, settings, setup_logging
from radio.health import return_large_blocks
from radio.messages import Command, WorkerStatus, topic_of
from radio.worker import Context, Worker, preload

log = logging.getLogger(__name__)
RESTART_MIN_S, RESTART_MAX_S = 1.0, 60.0


def register(app: typer.Typer) -> None:
    app.command("up")(up)
    app.command("worker")(worker)
    app.command("status")(status)
    app.command("skip")(skip)
    app.command("requeue")(requeue)


def up(
    only: list[str] = typer.Option(None, "--only", help="Run only these workers."),
    skip: list[str] = typer.Option(None, "--skip", help="Run all but these workers."),
) -> None:
    """Run the whole station in one process (with an embedded broker if none is set)."""
    names = [n for n in (only or workers.WORKERS) if n not in (skip or [])]
    for name in names:
        if name not in workers.WORKERS:
            fail(f"unknown worker {name!r}; known: {', '.join(workers.WORKERS)}")
    run(_serve(names, embedded=settings().uses_embedded_broker))


def worker(
    name: str = typer.Argument(..., help="fetcher, pdf, summarizer, embeddings, writer, "
                               "scheduler, tts, recorder, playout, obs, or module:Class"),
    instance: str = typer.Option(None, help="Instance name (default: host name); give each "
                                 "extra instance on one host its own."),
) -> None:
    """Run one worker against the configured broker."""
    try:
        workers.load(name)
    except (KeyError, ImportError, AttributeError) as exc:
        fail(str(exc).strip("'\""))
    run(_serve([name], embedded=False, instance=instance))


async def _serve(names: list[str], *, embedded: bool, instance: str | None = None) -> None:
    cfg = settings()
    setup_logging(cfg.log_level)
    return_large_blocks()  # before the models' threads allocate anything
    broker = None
    if embedded:
        broker = EmbeddedBroker(cfg.bus.embedded_port)
        try:
            await broker.start()
        except BrokerUnavailable as exc:
            fail(str(exc))
    ctx = context()
    classes = [workers.load(name) for name in names]
    if len(classes) > 1:
        with console.status("loading libraries"):
            await asyncio.to_thread(preload, classes, ctx.settings)
    tasks = [asyncio.create_task(_supervise(cls, ctx, instance), name=cls.name)
             for cls in classes]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    console.print(f"[green]on air:[/] {', '.join(names)} on {cfg.broker()!r}")
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    if broker:
        await broker.stop()
    ctx.store.close()


async def _supervise(cls: type[Worker], ctx: Context, instance: str | None) -> None:
    """Run a worker; when it crashes, say why and start a fresh one after a back-off.

    One worker's failure must not take the station off the air: the others go on, and
    the failed one's retained status carries the reason until it is back.
    """
    backoff = retry.Backoff(RESTART_MIN_S, RESTART_MAX_S)
    loop = asyncio.get_running_loop()

    def say_restarting(state: retry.RetryCallState) -> None:
        if exc := retry.failure(state):
            console.print(f"[red]{cls.name} failed:[/] {escape(repr(exc))}; "
                          f"restarting in {state.upcoming_sleep:.0f} s")

    async for attempt in retry.forever(backoff, on=Exception, before_sleep=say_restarting):
        with attempt:
            started = loop.time()
            try:
                await cls(ctx, instance).run()
            except Exception:
                log.exception("%s crashed", cls.name)
                raise
            finally:
                if loop.time() - started > RESTART_MAX_S:  # it ran a good while: a fresh
                    backoff.reset()                        # failure, not a crash loop


def status(
    wait: float = typer.Option(1.0, help="Seconds to collect retained statuses."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (every field, the whole "
                                 "error) instead of a table."),
) -> None:
    """Every worker's retained status: online/offline, version, backlog, last error."""
    try:
        found = run(read_retained(settings(), "status/#", wait))
    except Exception as exc:
        fail(f"cannot reach the broker at {settings().broker()!r}: {exc}")
    statuses = sorted((WorkerStatus.from_json(p) for p in found.values()),
                      key=lambda s: (s.worker, s.instance))
    if as_json:
        typer.echo(json.dumps([s.model_dump(mode="json") for s in statuses]))
        return
    console.print(status_table(statuses, console.width, datetime.now(UTC)))


# One line per worker at any width: the error is shortened first, then these columns go, in
# this order (the worker's name and state stay whole; --json has everything).
NARROWING = ("backlog detail", "done", "seen", "failed", "instance", "backlog")
COLUMNS = ("worker", "instance", "state", "backlog", "done", "failed", "seen")
ERROR = "last error / note"
MIN_ERROR = 12  # an error column narrower than this says too little: drop a column instead


def status_table(statuses: list[WorkerStatus], width: int, now: datetime) -> Table:
    rows = [_cells(s, now) for s in statuses]
    columns = _fitting(rows, width)
    table = Table(caption="radio status --json for every field")
    for column in columns:
        table.add_column(column.split()[0], no_wrap=True)
    room = width - _width(rows, columns) - 3  # an added column costs 3: padding and border
    if room > 0:
        table.add_column(ERROR, no_wrap=True, overflow="ellipsis", max_width=room)
    for s, row in zip(statuses, rows, strict=True):
        colour = {"online": "green", "starting": "yellow"}.get(s.state, "red")
        cells = [Text(row[c], style=colour if c == "state" else "") for c in columns]
        table.add_row(*cells, *([Text(row[ERROR])] if room > 0 else []))
    return table


def _cells(s: WorkerStatus, now: datetime) -> dict[str, str]:
    note = s.last_error or str(s.detail.get("note") or "")
    return {"worker": s.worker, "instance": s.instance, "state": s.state,
            "backlog": str(s.backlog), "backlog detail": _backlog(s), "done": str(s.handled),
            "failed": str(s.failed), "seen": f"{(now - s.updated_at).total_seconds():.0f}s ago",
            ERROR: " ".join(note.split())}  # one line: a traceback's newlines would wrap


def _fitting(rows: list[dict[str, str]], width: int) -> list[str]:
    """The columns to show: all that leave the error MIN_ERROR, narrowing in NARROWING order."""
    columns = ["backlog detail" if c == "backlog" else c for c in COLUMNS]
    for step in NARROWING:
        if _width(rows, columns) + 3 + MIN_ERROR <= width:
            break
        columns = [c for c in columns if c != step]
        if step == "backlog detail":
            columns.insert(columns.index("state") + 1, "backlog")
    return columns


def _width(rows: list[dict[str, str]], columns: list[str]) -> int:
    """The table's width with these columns: content, one space each side, the borders."""
    content = sum(max([cell_len(c.split()[0]), *(cell_len(r[c]) for r in rows)])
                  for c in columns)
    return content + 3 * len(columns) + 1


def _backlog(s: WorkerStatus) -> str:
    """The backlog, and for the summarizer how much of it is bound for air (first)."""
    if "queued_for_air" not in s.detail:
        return str(s.backlog)
    return f"{s.backlog} ({s.detail['queued_for_air']} for air, " \
           f"{s.detail.get('queued_background', 0)} background)"


def skip() -> None:
    """Skip what is on air now (playout goes on with the next line)."""
    _command("playout", "skip")


def requeue(
    worker: str = typer.Argument(..., help="The worker whose failed messages to retry."),
    message_id: str = typer.Option(None, "--id", help="Only this message id."),
) -> None:
    """Retry a worker's failed messages, without restarting it."""
    if worker not in workers.WORKERS and ":" not in worker:
        fail(f"unknown worker {worker!r}; known: {', '.join(workers.WORKERS)}")
    name = workers.load(worker).name if ":" in worker else worker
    _command(name, "requeue", {"id": message_id} if message_id else {})


def _command(worker: str, action: str, args: dict[str, str] | None = None) -> None:
    command = Command(worker=worker, action=action, args=args or {})
    try:
        run(publish_once(settings(), topic_of(Command, worker=worker), command.to_json()))
    except Exception as exc:
        fail(f"cannot reach the broker at {settings().broker()!r}: {exc}")
    console.print(f"sent {action} to {worker}")
