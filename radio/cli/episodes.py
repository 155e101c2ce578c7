"""`radio episodes list|record` and `radio feed url|build`."""

from __future__ import annotations

import json

import typer
from rich.table import Table

from radio import feed
from radio.artifacts import InvalidId, safe_show_id
from radio.cli.common import console, context, fail, settings
from radio.episodes.assemble import AssemblyError
from radio.episodes.episode import collect_segments, record_episode, save_episode

app = typer.Typer(no_args_is_help=True)
feed_app = typer.Typer(no_args_is_help=True)


@app.command("list")
def list_episodes(
    limit: int = typer.Option(50, help="Newest episodes to show."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Recorded episodes, newest first."""
    ctx = context()
    rows = ctx.store.episodes(limit)
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


@app.command("record")
def record(
    show_id: str = typer.Argument(..., help="The show to (re-)record from its voiced segments."),
    force: bool = typer.Option(False, "--force", help="Replace an episode already recorded."),
) -> None:
    """Record a show's episode now from the segments in the store (no bus needed)."""
    try:
        safe_show_id(show_id)
    except InvalidId as exc:
        fail(str(exc))
    ctx = context()
    if ctx.store.episode(show_id) and not force:
        fail(f"{show_id} is already recorded (use --force to record it again)")
    total = ctx.store.count_segments(show_id, voiced=True)
    segments = collect_segments(ctx.store, ctx.data, show_id, total) if total else None
    if not segments:
        fail(f"{show_id} has no voiced segments in the store")
    try:
        episode = record_episode(ctx.store, ctx.data, ctx.settings, show_id, segments)
    except AssemblyError as exc:
        fail(f"cannot record {show_id}: {exc}")
    ctx.store.delete_episode(show_id)
    save_episode(ctx.store, ctx.data, episode)
    feed.apply_retention(ctx.store, ctx.data, ctx.settings)
    ctx.store.close()
    console.print(f"{episode.paths.mp3}: {feed.format_duration(episode.duration_s)}, "
                  f"{episode.loudness_lufs:.1f} LUFS, {len(episode.chapters)} chapters")


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
