"""`radio ingest ID_OR_PATH...`: add papers by arXiv id or local PDF.

arXiv ids are fetched like the fetcher does (API metadata, licence, PDF; politely,
sharing the 3-second turn with a running station through the data root). A local PDF
is copied into the data root with metadata from the store if the paper is known, else
from its own first page; its id comes from `--id`, the arXiv stamp on page 1, or the
file name, and a PDF with none of these is refused. Each paper is recorded in the store
and announced on the bus as `papers/fetched`, so a running station picks it up; if no
station is running, the fetcher announces it when it starts.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import aiomqtt
import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from radio.bus import publish_once
from radio.cli import common
from radio.config import Settings
from radio.ingest.ingestor import Ingestor, Outcome
from radio.messages import PaperFetched
from radio.worker import Context

PUBLISH_TIMEOUT_S = 15.0


def register(app: typer.Typer) -> None:
    """Add `ingest` to the root command."""
    app.command("ingest")(ingest)


def ingest(
    items: Annotated[list[str], typer.Argument(
        metavar="ID_OR_PATH...", help="arXiv ids (2501.10120, astro-ph/0601001v2) or PDFs.")],
    arxiv_id: Annotated[str | None, typer.Option(
        "--id", help="arXiv id of a local PDF that does not show one.")] = None,
    publish: Annotated[bool, typer.Option(
        "--publish/--no-publish", help="Announce the papers to the station on the bus.")] = True,
) -> None:
    """Add papers by arXiv id or local PDF file."""
    if arxiv_id and (len(items) != 1 or not Path(items[0]).is_file()):
        common.fail("--id names the arXiv id of exactly one local PDF")
    outcomes = common.run(ingest_items(common.settings(), items, arxiv_id=arxiv_id,
                                       publish=publish))
    common.console.print(_table(outcomes))
    if any(outcome.error for outcome in outcomes):
        raise typer.Exit(1)


async def ingest_items(settings: Settings, items: list[str], *, arxiv_id: str | None = None,
                       publish: bool = True) -> list[Outcome]:
    """Fetch or copy every item, with a progress bar; publish what was added."""
    ctx = Context.from_settings(settings)
    ingestor = Ingestor(settings, ctx.store, ctx.data)
    files = [item for item in items if Path(item).is_file()]
    missing = [item for item in items if item not in files and item.lower().endswith(".pdf")]
    ids = [item for item in items if item not in files and item not in missing]
    outcomes = [Outcome(item, error=f"no such file: {item}") for item in missing]
    try:
        with _progress() as progress:
            task = progress.add_task("adding papers", total=len(items), completed=len(missing))

            def done(outcome: Outcome) -> None:
                outcomes.append(outcome)
                progress.update(task, advance=1, description=f"added {outcome.key}")

            for item in files:
                progress.update(task, description=f"reading {Path(item).name}")
                done(await asyncio.to_thread(ingestor.add_local, Path(item), arxiv_id))
            if ids:
                progress.update(task, description=f"asking arXiv for {len(ids)} paper(s)")
                await ingestor.fetch_ids(ids, done)
        if publish:
            await _publish(settings, ingestor, [o.message for o in outcomes if o.message])
    finally:
        await ingestor.aclose()
        ctx.store.close()
    return outcomes


async def _publish(settings: Settings, ingestor: Ingestor, messages: list[PaperFetched]) -> None:
    for message in messages:
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT_S):
                await publish_once(settings, message.TOPIC, message.to_json(),
                                   client_id="radio-ingest")
        except (aiomqtt.MqttError, OSError, TimeoutError) as exc:
            common.err_console.print(
                f"[yellow]station not reachable on the bus ({exc}); the papers are recorded "
                "and the fetcher announces them when it starts[/]")
            return
        ingestor.mark_published(message)


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), console=common.err_console)


def _table(outcomes: list[Outcome]) -> Table:
    table = Table("paper", "result", "title")
    for outcome in outcomes:
        if outcome.message:
            kind = "revision" if outcome.message.is_revision else "added"
            table.add_row(outcome.key, f"[green]{kind}[/]", outcome.message.title[:70])
        elif outcome.skipped:
            table.add_row(outcome.key, f"[dim]{outcome.skipped}[/]", "")
        else:
            table.add_row(outcome.key, "[red]failed[/]", outcome.error or "")
    return table
