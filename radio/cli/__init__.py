"""The `radio` command: run the station, one worker, and the admin commands."""

from __future__ import annotations

import typer

from radio import __version__
from radio.cli import (
    episodes,
    ingest,
    papers,
    schedule,
    search,
    shows,
    station,
    stream,
    voices,
)

app = typer.Typer(help="Paper Radio: the newest AI papers on arXiv, on air 24/7.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False)
station.register(app)
ingest.register(app)
search.register(papers.app)
app.add_typer(papers.app, name="papers", help="Papers in the store: add, list, show, search.")
app.add_typer(schedule.app, name="schedule", help="The show schedule.")
app.add_typer(shows.app, name="show", help="Shows: run one now, list, print a script.")
app.add_typer(episodes.app, name="episodes", help="Recorded podcast episodes.")
app.add_typer(episodes.feed_app, name="feed", help="The podcast feed.")
app.add_typer(stream.app, name="stream", help="The live video stream.")
app.add_typer(voices.app, name="voices", help="The hosts' voices: list, check, try one.")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"radio {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Paper Radio."""


def main() -> None:
    app()
