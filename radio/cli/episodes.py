"""`radio episodes list` and `radio feed url` (plus `radio feed build`)."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from radio import feed
from radio.cli.common import console, context, settings

app = typer.Typer(no_args_is_help=True)
feed_app = typer.Typer(no_args_is_help=True)


@app.command("list")
def list_episodes(
    limit: int = typer.Option(50, help="Newest episodes to show."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Recorded episodes, newest first."""
    ctx = context()
    rows = ctx.store.query("SELECT * FROM episodes ORDER BY published_at DESC LIMIT ?", (limit,))
    ctx.store.close()
    if as_json:
        console.print_json(json.dumps([dict(r) for r in rows]))
        return
    table = Table("show", "title", "published", "duration", "MB", "LUFS")
    for r in rows:
        table.add_row(r["show_id"], r["title"], r["published_at"][:16].replace("T", " "),
                      feed.format_duration(r["duration_s"]), f"{r['bytes'] / 1e6:.1f}",
                      f"{r['loudness_lufs']:.1f}")
    console.print(table if rows else "no episodes yet")


@feed_app.command("url")
def url() -> None:
    """The podcast feed's address, for a podcast app."""
    typer.echo(feed.feed_url(settings()))


@feed_app.command("build")
def build() -> None:
    """Apply the retention policy and rewrite the feed from the store."""
    ctx = context()
    removed = feed.apply_retention(ctx.store, ctx.data, ctx.settings)
    ctx.store.close()
    console.print(f"feed written: {ctx.data.feed_dir / feed.FEED_FILE}")
    if removed:
        console.print(f"deleted by the retention policy: {', '.join(removed)}")
