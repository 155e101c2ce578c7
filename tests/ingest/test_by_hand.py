"""A paper the operator ingests by hand is eligible for the next show whatever its category.

Issue #10: 2501.10120 (cs.IR), ingested with `radio ingest`, was never scheduled by a
station following cs.AI, cs.LG, cs.CL and cs.CV. Here the corpus's cond-mat and stat.ML
papers stand in for it: one fetched by id, one from a local PDF.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from radio.artifacts import DataRoot
from radio.config import Settings
from radio.ingest.ingestor import Ingestor
from radio.messages import ShowRequested
from radio.shows.papers import select_papers
from radio.store import MIGRATIONS, Store
from tests.support.arxiv_standin import ArxivStandIn


def _selected(store: Store, settings: Settings, kind: str,
              categories: list[str] | None = None) -> set[str]:
    fetched = max(r["fetched_at"] for r in store.versions())
    day = datetime.fromisoformat(fetched).astimezone(ZoneInfo(settings.scheduler.timezone))
    request = ShowRequested(show_id=f"{kind}-test", kind=kind, date=day.date().isoformat(),
                            length_s=600, categories=categories or [])
    return {paper.arxiv_id for paper in select_papers(store, request, settings)}


async def test_papers_ingested_by_hand_are_on_the_next_show_whatever_their_category(
        offline_settings: Settings, standin: ArxivStandIn, corpus: Path) -> None:
    standin.listing("cs.CL", ["2304.02623v1"])
    settings = offline_settings.model_copy(update={"categories": ["cs.CL", "cs.CV"]})
    store = Store(settings.database_path)
    ingestor = Ingestor(settings, store, DataRoot(settings.data_dir))
    try:
        polled = await ingestor.poll()  # the station's own round: cs.CL
        by_id = await ingestor.fetch_ids(["1111.2011v2"])  # the operator: cond-mat.str-el
    finally:
        await ingestor.aclose()
    local = ingestor.add_local(corpus / "pdf/1708.05894v1.pdf")  # the operator: stat.ML
    assert [o.key for o in [*polled, *by_id, local] if o.message] == [
        "2304.02623v1", "1111.2011v2", "1708.05894v1"]
    rows = store.papers()
    assert [(r["arxiv_id"], r["by_hand"]) for r in rows] == [
        ("1111.2011", 1), ("1708.05894", 1), ("2304.02623", 0)]
    assert not {"cs.CL", "cs.CV"} & {c for r in rows[:2] for c in json.loads(r["categories"])}

    everything = {"2304.02623", "1111.2011", "1708.05894"}
    assert _selected(store, settings, "daily") == everything
    assert _selected(store, settings, "latest") == everything
    # A show on other categories still leaves out what the station's poll brought.
    assert _selected(store, settings, "daily", ["cs.CV"]) == {"1111.2011", "1708.05894"}
    store.close()


def test_the_migration_marks_papers_an_operator_added_before_it(tmp_path: Path) -> None:
    """Before the `by_hand` column, only `radio ingest` and the fetcher's `fetch` command
    wrote source 'local' (a PDF) or 'api' (ids); the station's polls wrote 'rss'."""
    path = tmp_path / "radio.db"
    db = sqlite3.connect(path)
    for script in MIGRATIONS[:2]:
        db.executescript(script)
    db.execute("PRAGMA user_version = 2")
    for arxiv_id, source in [("2304.02623", "rss"), ("1111.2011", "api"),
                             ("1708.05894", "local")]:
        db.execute("INSERT INTO papers (arxiv_id, latest_version, title, authors, abstract, "
                   "categories, source, created_at) VALUES (?, 1, 't', '[]', '', '[]', ?, "
                   "'2026-01-01T00:00:00+00:00')", (arxiv_id, source))
    db.commit()
    db.close()
    store = Store(path)
    assert store.schema_version == len(MIGRATIONS)
    rows = store.papers()
    assert [(row["arxiv_id"], row["by_hand"]) for row in rows] == [
        ("1111.2011", 1), ("1708.05894", 1), ("2304.02623", 0)]
    store.close()
