"""The `shows` and `show_papers` tables: what was requested, written, and which papers aired."""

from __future__ import annotations

import json

from radio.artifacts import DataRoot
from radio.messages import ShowRequested
from radio.shows.script import Script, script_path
from radio.store import Operations, Store

PENDING = ("requested", "written")  # on their way to the voices


def record_request(store: Operations, request: ShowRequested) -> bool:
    """Note a requested show; False if the show id is already known."""
    return store.claim_show(request.show_id, request.kind, request.date,
                            request.model_dump_json())


def show_status(store: Store, show_id: str) -> str | None:
    row = store.show(show_id)
    return row["status"] if row else None


def record_written(store: Store, data: DataRoot, script: Script) -> None:
    """Mark the show written and remember which papers it covered, in one transaction."""
    path = script_path(data, script.show_id).relative_to(data.root).as_posix()
    modes: dict[tuple[str, int], str] = {}
    for slot in script.rundown.slots:
        for paper in slot.papers:
            if slot.kind in ("discussion", "headline", "revision", "theme"):
                modes.setdefault((paper.arxiv_id, paper.version), slot.kind)
    store.record_written(script.show_id, script.title, path,
                         [(a, v, mode) for (a, v), mode in modes.items()])


def record_failed(store: Store, show_id: str, reason: str) -> None:
    store.mark_show_failed(show_id, reason)


def pending_seconds(store: Store) -> float:
    """Airtime on its way: unaired voiced lines, plus shows requested or written."""
    coming = sum(json.loads(r).get("length_s", 0) for r in store.show_requests(PENDING))
    return store.unaired_seconds() + float(coming)
