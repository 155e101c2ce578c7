"""`radio up`, `radio worker NAME`, `radio status`: run the station and watch it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
from datetime import UTC, datetime

import typer
from rich.table import Table

from radio import workers
from radio.broker import EmbeddedBroker
from radio.bus import publish_once, read_retained
from radio.cli.common import console, context, fail, run, settings, setup_logging
from radio.messages import Command, WorkerStatus, topic_of


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
    broker = None
    if embedded:
        broker = EmbeddedBroker(cfg.bus.embedded_port)
        await broker.start()
    ctx = context()
    running = [workers.load(name)(ctx, instance) for name in names]
    tasks = [asyncio.create_task(w.run(), name=w.name) for w in running]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    console.print(f"[green]on air:[/] {', '.join(names)} on {cfg.broker()!r}")
    done = asyncio.create_task(asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION))
    await asyncio.wait([done, asyncio.create_task(stop.wait())],
                       return_when=asyncio.FIRST_COMPLETED)
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    for task in tasks:
        if not task.cancelled() and task.exception():
            console.print(f"[red]{task.get_name()} failed:[/] {task.exception()!r}")
    if broker:
        await broker.stop()
    ctx.store.close()


def status(
    wait: float = typer.Option(1.0, help="Seconds to collect retained statuses."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
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
    table = Table("worker", "instance", "state", "version", "backlog", "handled", "failed",
                  "last error", "seen")
    now = datetime.now(UTC)
    for s in statuses:
        colour = {"online": "green", "stub": "yellow"}.get(s.state, "red")
        ago = f"{(now - s.updated_at).total_seconds():.0f}s ago"
        table.add_row(s.worker, s.instance, f"[{colour}]{s.state}[/]", s.version, str(s.backlog),
                      str(s.handled), str(s.failed), s.last_error or "", ago)
    console.print(table)


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
