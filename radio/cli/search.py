"""`radio papers search|related|rank|themes|reindex`: the embeddings database from the CLI.

`search` and `related` ask the running station's embeddings worker over the bus (a
`search`/`related` command answered on `replies/<token>`): no model to load, well under a
second. When no embeddings worker answers within `--wait` seconds (station down, still
starting), or with `--local`, they and the other commands read the index the embeddings
worker saves under the data root (rebuilt from the store when missing or damaged) and load
the embedding model here (a few seconds).
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import date

import typer
from rich.markup import escape
from rich.table import Table

from radio.artifacts import InvalidId, parse_arxiv_id
from radio.cli.common import console, err_console, fail, run, settings
from radio.messages import Command, QueryReply, topic_of

ASK_WAIT_S = 3.0


def register(app: typer.Typer) -> None:
    """Add the search commands to the `papers` group."""
    app.command("search")(search)
    app.command("related")(related)
    app.command("rank")(rank)
    app.command("themes")(themes)
    app.command("reindex")(reindex)


def _library():
    from radio.artifacts import DataRoot
    from radio.backends.embedder import EmbedderError, load_embedder
    from radio.store import Store
    from radio.understanding.index import Library

    cfg = settings()
    if not cfg.database_url and not cfg.database_path.is_file():
        fail(f"no database at {cfg.database_path}: nothing ingested yet")
    try:
        embedder = load_embedder(cfg.embedder)
    except EmbedderError as exc:
        fail(str(exc))
    store = Store.open(cfg)
    return Library(store, embedder, DataRoot(cfg.data_dir).index_dir)


def ask_station(action: str, args: dict[str, str], wait_s: float = ASK_WAIT_S,
                ) -> QueryReply | None:
    """The running embeddings worker's answer to a query command; None when none comes."""
    import aiomqtt

    from radio.bus import Bus

    cfg = settings()
    token = secrets.token_hex(8)

    async def ask() -> QueryReply | None:
        bus = Bus(cfg, f"radio-cli-{token}", persistent=False)
        async with aiomqtt.Client(**bus._client_kwargs()) as client:
            await client.subscribe(bus.topic(topic_of(QueryReply, token=token)), qos=1)
            command = Command(worker="embeddings", action=action,
                              args={**args, "reply_to": token})
            await client.publish(bus.topic(topic_of(Command, worker="embeddings")),
                                 command.to_json(), qos=1)
            async with asyncio.timeout(wait_s):
                async for message in client.messages:
                    return QueryReply.from_json(bytes(message.payload or b""))
        return None

    try:
        return run(ask())
    except Exception:  # no broker, no answer in time, a bad reply: the caller goes local
        return None


def _asked(action: str, args: dict[str, str], local: bool, wait_s: float
           ) -> QueryReply | None:
    """The station's answer, or None (with a note) when this command must go local."""
    if local:
        return None
    reply = ask_station(action, args, wait_s)
    if reply is None or (reply.error or "").endswith("still starting"):
        why = (reply.error if reply is not None else None) or "no embeddings worker answered"
        err_console.print(f"[dim]{escape(why)}: loading the embedding model here[/]")
        return None
    return reply


def _titles(library, ids: list[str]) -> dict[str, str]:
    return library.store.paper_titles(ids)


def _show(library, hits, title: str, score_name: str = "similarity") -> None:
    if not hits:
        console.print(f"[yellow]{escape(title)}: no papers[/]")
        return
    titles = {h.arxiv_id: h.title for h in hits} if library is None else \
        _titles(library, [h.arxiv_id for h in hits])
    table = Table(title=escape(title))
    table.add_column("#", justify="right")
    table.add_column("arXiv id", style="bold", no_wrap=True)
    table.add_column(score_name, justify="right")
    table.add_column("title", max_width=70, overflow="ellipsis")
    for n, hit in enumerate(hits, start=1):
        table.add_row(str(n), hit.arxiv_id, f"{hit.score:.3f}",
                      escape(titles.get(hit.arxiv_id, "")))
    console.print(table)


def search(
    text: str = typer.Argument(..., help="Free text to search for."),
    limit: int = typer.Option(10, "--limit", "-n", help="How many papers."),
    local: bool = typer.Option(False, "--local", help="Load the model here; ask no station."),
    wait: float = typer.Option(ASK_WAIT_S, "--wait", help="Seconds to wait for the station."),
) -> None:
    """Papers closest in meaning to free text."""
    reply = _asked("search", {"text": text, "k": str(limit)}, local, wait)
    if reply is not None:
        if reply.error:
            fail(reply.error)
        _show(None, reply.hits, f"Papers about {text!r}")
        return
    library = _library()
    _show(library, library.search(text, limit), f"Papers about {text!r}")


def related(
    arxiv_id: str = typer.Argument(..., help="arXiv id, e.g. 2312.10997 or 2312.10997v5."),
    limit: int = typer.Option(5, "--limit", "-n", help="How many papers."),
    local: bool = typer.Option(False, "--local", help="Load the model here; ask no station."),
    wait: float = typer.Option(ASK_WAIT_S, "--wait", help="Seconds to wait for the station."),
) -> None:
    """Papers closest to one paper, and its novelty."""
    try:
        base, _ = parse_arxiv_id(arxiv_id)
    except InvalidId as exc:
        fail(str(exc))
    reply = _asked("related", {"arxiv_id": base, "k": str(limit)}, local, wait)
    if reply is not None:
        if reply.error:
            fail(reply.error)
        hits, novelty = reply.hits, reply.novelty
        _show(None, hits, f"Related to {base}")
    else:
        library = _library()
        if base not in library.index:
            fail(f"{base} is not in the index (not embedded yet?)")
        _show(library, library.index.related(base, limit), f"Related to {base}")
        novelty = library.novelty(base)
    if novelty is not None:
        console.print(f"novelty (distance to the nearest earlier paper): {novelty:.3f}")


def rank(
    day: str = typer.Option(..., "--day", help="YYYY-MM-DD: papers published that day."),
    limit: int = typer.Option(20, "--limit", "-n", help="How many papers."),
) -> None:
    """A day's papers ranked by the configured interests (embedder.interests)."""
    when = _date(day)
    library = _library()
    interests = settings().embedder.interests
    if not interests:
        fail("no interests configured (embedder.interests)")
    hits = library.rank_day(when, interests)[:limit]
    _show(library, hits, f"Papers of {when} by interest: {', '.join(interests)}", "interest")


def themes(
    week: str = typer.Option(..., "--week", help="YYYY-MM-DD: first day of the week."),
    k: int = typer.Option(0, help="Number of themes (0: chosen from the paper count)."),
) -> None:
    """A week's papers grouped into themes, each labelled by its papers' words."""
    library = _library()
    clusters = library.week_clusters(_date(week), k or None)
    if not clusters:
        console.print("[yellow]no papers that week[/]")
    titles = _titles(library, [a for c in clusters for a in c.arxiv_ids])
    for cluster in clusters:
        console.print(f"[bold]{escape(cluster.label)}[/] ({len(cluster.arxiv_ids)})")
        for arxiv_id in cluster.arxiv_ids:
            console.print(f"  {arxiv_id}  {escape(titles.get(arxiv_id, ''))}")


def reindex() -> None:
    """Rebuild the vector index from the store (every paper embedded again)."""
    library = _library()
    count = library.rebuild()
    console.print(f"[green]index rebuilt:[/] {count} papers")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        fail(f"not a date (YYYY-MM-DD): {text!r}")
