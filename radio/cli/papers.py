"""`radio papers list|show`: what the store knows about each paper, stage by stage.

The search commands (`search`, `related`, `rank`) join this group from radio/cli/search.py.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict

import typer
from rich import box
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from radio.artifacts import InvalidId, parse_arxiv_id
from radio.cli.common import console, fail, settings
from radio.store import Row, Store

app = typer.Typer(no_args_is_help=True)

PIPELINE = ("fetch", "pdf", "summary", "summarize", "embed", "embeddings")  # display order
STYLES = {"done": "green", "failed": "bold red", "no_text": "yellow", "pending": "cyan"}
# C0/C1 controls (tab and newline kept): paper text must not drive the terminal (colours,
# OSC 8 links, cursor moves).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def untrusted(text: str) -> str:
    """Paper text for the terminal: no control characters and no rich markup."""
    return escape(_CONTROLS.sub("", text))


def _store() -> Store:
    cfg = settings()
    if not cfg.database_url and not cfg.database_path.is_file():
        fail(f"no database at {cfg.database_path}: nothing ingested yet")
    return Store.open(cfg)


def _status(status: str | None) -> Text:
    return Text(status or "·", style=STYLES.get(status or "", "dim"))


def _ordered(stages: set[str]) -> list[str]:
    return [s for s in PIPELINE if s in stages] + sorted(stages - set(PIPELINE))


def _latest_stages(store: Store) -> dict[str, dict[str, Row]]:
    """arXiv id -> stage -> its row for the paper's newest version."""
    rows = store.all_stages()
    latest: dict[str, dict[str, Row]] = defaultdict(dict)
    for row in rows:  # later versions overwrite earlier ones
        latest[row["arxiv_id"]][row["stage"]] = row
    return latest


@app.command("list")
def list_papers(
    limit: int = typer.Option(50, "--limit", "-n", help="Show at most this many papers."),
    failed: bool = typer.Option(False, "--failed", help="Only papers with a failed stage."),
    stage: str | None = typer.Option(None, help="Only papers that reached this stage."),
    as_json: bool = typer.Option(False, "--json", help="Every field, untruncated, as JSON."),
) -> None:
    """Papers in the store, newest first, and the stage each has reached."""
    store = _store()
    papers = {r["arxiv_id"]: r for r in store.papers()}
    stages = _latest_stages(store)
    ids = sorted(set(papers) | set(stages),
                 key=lambda i: _sort_key(papers.get(i), stages.get(i, {})), reverse=True)
    if failed:
        ids = [i for i in ids if any(r["status"] == "failed" for r in stages[i].values())]
    if stage:
        ids = [i for i in ids if stage in stages.get(i, {})]
    rows = [_listed(i, papers.get(i), stages.get(i, {})) for i in ids[:limit]]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    console.print(_papers_table(rows, len(ids), console.width))
    if len(ids) > limit:
        console.print(f"[dim]{len(ids) - limit} more; use --limit[/]")


def _listed(arxiv_id: str, paper: Row | None, stages: dict[str, Row]) -> dict:
    version = paper["latest_version"] if paper else max(
        (r["version"] for r in stages.values()), default=None)
    return {"arxiv_id": arxiv_id, "version": version,
            "title": paper["title"] if paper else None,
            "category": paper["primary_category"] if paper else None,
            "stages": {name: row["status"] for name, row in stages.items()}}


def _papers_table(rows: list[dict], total: int, width: int) -> Table:
    """Ids are never cut (they are what a user copies): the title gives way first, then the
    category and version columns are left out."""
    columns = {"arXiv id": [r["arxiv_id"] for r in rows],
               "state": [_state(r["stages"]) for r in rows],
               "v": [str(r["version"] or "") for r in rows],
               "cat": [r["category"] or "" for r in rows]}
    widths = {name: max(len(name), *(len(Text(v) if isinstance(v, str) else v) for v in values))
              for name, values in columns.items()}
    def chrome() -> int:  # padding and separators of every column, the title's included
        return 3 * (len(widths) + 1) + 1

    while len(widths) > 2 and sum(widths.values()) + chrome() + 12 > width:
        widths.popitem()  # cat, then v
    table = Table(title=f"Papers ({total})", box=box.SIMPLE_HEAD, pad_edge=False)
    for name, w in widths.items():
        table.add_column(name, no_wrap=True, width=w, style="bold" if name == "arXiv id" else None)
    table.add_column("title", overflow="ellipsis", no_wrap=True,
                     width=max(8, width - sum(widths.values()) - chrome()))
    for n, row in enumerate(rows):
        table.add_row(*(columns[name][n] for name in widths),
                      untrusted(row["title"] or "(not recorded)"))
    return table


def _state(stages: dict[str, str]) -> Text:
    """The first failed stage, else the furthest one: where the paper stands, in one cell."""
    if not stages:
        return _status(None)
    order = _ordered(set(stages))
    name = next((s for s in order if stages[s] == "failed"), order[-1])
    return Text.assemble(f"{name} ", _status(stages[name]))


def _sort_key(paper: Row | None, stages: dict[str, Row]) -> str:
    times = [r["updated_at"] for r in stages.values()]
    if paper:
        times.append(paper["created_at"])
    return max(times, default="")


@app.command("show")
def show_paper(arxiv_id: str = typer.Argument(..., help="arXiv id, e.g. 2312.10997")) -> None:
    """One paper: metadata, versions, each stage with its detail, artifacts and failures."""
    try:
        base, _ = parse_arxiv_id(arxiv_id)
    except InvalidId as exc:
        fail(str(exc))
    store = _store()
    paper = store.paper(base)
    stages = store.all_stages([base])
    if paper is None and not stages:
        fail(f"{base} is not in the store")
    if paper is not None:
        console.print(_paper_panel(paper))
    console.print(_versions_table(store, base))
    console.print(_stages_table(stages))
    artifacts = store.artifact_kinds(base)
    if artifacts:
        console.print(_artifacts_table(artifacts))
    failures = store.failures(paper=base, limit=20)
    if failures:
        console.print(_failures_table(failures))


def _paper_panel(paper: Row) -> Panel:
    authors = json.loads(paper["authors"] or "[]")
    lines = [  # paper text is untrusted: escaped, so it carries no rich markup
        f"[bold]{untrusted(paper['title'])}[/]",
        untrusted(", ".join(authors[:12]) + (" et al." if len(authors) > 12 else "")),
        f"[dim]categories:[/] {', '.join(json.loads(paper['categories'] or '[]'))}   "
        f"[dim]published:[/] {paper['published'] or '?'}   [dim]source:[/] {paper['source']}",
        f"[dim]licence:[/] {paper['licence_url'] or 'unknown'}",
        "",
        untrusted(paper["abstract"][:600] + ("…" if len(paper["abstract"]) > 600 else "")),
    ]
    return Panel("\n".join(lines), title=f"{paper['arxiv_id']} v{paper['latest_version']}")


def _versions_table(store: Store, base: str) -> Table:
    table = Table(title="Versions")
    for name in ("v", "pdf", "sha256", "fetched"):
        table.add_column(name)
    for row in store.versions(base):
        table.add_row(str(row["version"]), row["pdf_path"] or "", (row["pdf_sha256"] or "")[:12],
                      row["fetched_at"])
    return table


def _stages_table(stages: list[Row]) -> Table:
    table = Table(title="Stages")
    for name in ("v", "stage", "status", "detail", "updated"):
        table.add_column(name, overflow="fold")
    order = {s: i for i, s in enumerate(PIPELINE)}
    for row in sorted(stages, key=lambda r: (r["version"], order.get(r["stage"], 99))):
        table.add_row(str(row["version"]), row["stage"], _status(row["status"]),
                      Text(row["detail"] or ""), row["updated_at"])
    return table


def _artifacts_table(rows: list[Row]) -> Table:
    table = Table(title="Artifacts")
    for name in ("kind", "files", "bytes", "e.g."):
        table.add_column(name)
    for row in rows:
        table.add_row(row["kind"], str(row["n"]), f"{row['bytes']:,}", row["path"])
    return table


def _failures_table(rows: list[Row]) -> Table:
    table = Table(title="Failures", title_style="bold red")
    for name in ("when", "worker", "reason"):
        table.add_column(name, overflow="fold")
    for row in rows:
        table.add_row(row["at"], row["worker"], Text(row["reason"]))
    return table
