"""The `shows` and `show_papers` tables: what was requested, written, and which papers aired."""

from __future__ import annotations

import json

from radio.artifacts import DataRoot
from radio.messages import ShowRequested
from radio.shows.script import Script, script_path
from radio.store import Store, now_iso

PENDING = ("requested", "written")  # on their way to the voices


def record_request(store: Store, request: ShowRequested) -> bool:
    """Note a requested show; False if the show id is already known."""
    return store.execute(
        "INSERT OR IGNORE INTO shows (show_id, kind, date, title, status, request, created_at,"
        " updated_at) VALUES (?, ?, ?, '', 'requested', ?, ?, ?)",
        (request.show_id, request.kind, request.date, request.model_dump_json(), now_iso(),
         now_iso())) == 1


def show_status(store: Store, show_id: str) -> str | None:
    row = store.one("SELECT status FROM shows WHERE show_id=?", (show_id,))
    return row[0] if row else None


def record_written(store: Store, data: DataRoot, script: Script) -> None:
    """Mark the show written and remember which papers it covered, in one transaction."""
    path = script_path(data, script.show_id).relative_to(data.root).as_posix()
    modes = {}
    for slot in script.rundown.slots:
        for paper in slot.papers:
            if slot.kind in ("discussion", "headline", "revision", "theme"):
                modes.setdefault((paper.arxiv_id, paper.version), slot.kind)
    with store.tx() as db:
        db.execute("UPDATE shows SET status='written', title=?, script_path=?, updated_at=? "
                   "WHERE show_id=?", (script.title, path, now_iso(), script.show_id))
        db.execute("DELETE FROM show_papers WHERE show_id=?", (script.show_id,))
        db.executemany(
            "INSERT OR REPLACE INTO show_papers (show_id, arxiv_id, version, mode) "
            "VALUES (?, ?, ?, ?)",
            [(script.show_id, a, v, mode) for (a, v), mode in modes.items()])


def record_failed(store: Store, show_id: str, reason: str) -> None:
    store.execute("UPDATE shows SET status='failed', title=?, updated_at=? WHERE show_id=?",
                  (reason[:200], now_iso(), show_id))


def pending_seconds(store: Store) -> float:
    """Airtime on its way: unaired voiced lines, plus shows requested or written."""
    voiced = store.one("SELECT coalesce(sum(duration_s), 0) FROM segments "
                       "WHERE aired_at IS NULL AND duration_s IS NOT NULL")
    marks = ",".join("?" * len(PENDING))
    rows = store.query(f"SELECT request FROM shows WHERE status IN ({marks})", PENDING)
    coming = sum(json.loads(r[0]).get("length_s", 0) for r in rows)
    return float(voiced[0] if voiced else 0.0) + float(coming)
