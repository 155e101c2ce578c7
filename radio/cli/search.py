"""`radio papers search|related|rank|themes|reindex`: the embeddings database from the CLI.

They read the index the embeddings worker saves under the data root (rebuilt from the
store when missing or damaged) and load the embedding model (a few seconds).
"""

from __future__ import annotations

from datetime import date

import typer
from rich.markup import escape
from rich.table import Table

from radio.artifacts import InvalidId, parse_arxiv_id
from radio.cli.common import console, fail, settings


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


def _titles(library, ids: list[str]) -> dict[str, str]:
    return library.store.paper_titles(ids)


def _show(library, hits, title: str, score_name: str = "similarity") -> None:
    if not hits:
        console.print(f"[yellow]{escape(title)}: no papers[/]")
        return
    titles = _titles(library, [h.arxiv_id for h in hits])
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
) -> None:
    """Papers closest in meaning to free text."""
    library = _library()
    _show(library, library.search(text, limit), f"Papers about {text!r}")


def related(
    arxiv_id: str = typer.Argument(..., help="arXiv id, e.g. 2312.10997 or 2312.10997v5."),
    limit: int = typer.Option(5, "--limit", "-n", help="How many papers."),
) -> None:
    """Papers closest to one paper, and its novelty."""
    try:
        base, _ = parse_arxiv_id(arxiv_id)
    except InvalidId as exc:
        fail(str(exc))
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
