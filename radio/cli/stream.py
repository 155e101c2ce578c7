"""`radio stream start|stop|status`: the live video stream through OBS.

The commands go to the obs worker on `commands/obs`; it applies them as soon as OBS is
reachable, and starts the outputs again after OBS restarts.
"""

from __future__ import annotations

import json

import typer

from radio.bus import publish_once, read_retained
from radio.cli.common import console, fail, run, settings
from radio.messages import Command, WorkerStatus, topic_of

app = typer.Typer(no_args_is_help=True)

RECORDING = typer.Option(False, "--recording", help="The local recording instead of the stream.")


@app.command()
def start(recording: bool = RECORDING) -> None:
    """Start OBS's stream (or, with --recording, its recording)."""
    _send("record_start" if recording else "stream_start")


@app.command()
def stop(recording: bool = RECORDING) -> None:
    """Stop OBS's stream (or, with --recording, its recording)."""
    _send("record_stop" if recording else "stream_stop")


@app.command()
def status(
    wait: float = typer.Option(1.0, help="Seconds to collect retained statuses."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """What the obs worker last saw of OBS: connection, scene, streaming, dropped frames."""
    try:
        found = run(read_retained(settings(), topic_of(WorkerStatus, worker="obs") + "/#", wait))
    except Exception as exc:
        fail(f"cannot reach the broker at {settings().broker()!r}: {exc}")
    statuses = [WorkerStatus.from_json(payload) for payload in found.values()]
    details = {s.instance: {"state": s.state, **s.detail} for s in statuses}
    if not details:
        fail("no obs worker has reported; is it running? (radio worker obs)")
    if as_json:
        typer.echo(json.dumps(details))
        return
    for instance, detail in sorted(details.items()):
        console.print(f"[bold]{instance}[/]: " + ", ".join(f"{k}={v}" for k, v in detail.items()))


def _send(action: str) -> None:
    cfg = settings()
    command = Command(worker="obs", action=action)
    try:
        run(publish_once(cfg, topic_of(Command, worker="obs"), command.to_json()))
    except Exception as exc:
        fail(f"cannot reach the broker at {cfg.broker()!r}: {exc}")
    console.print(f"sent {action} to the obs worker")
