"""A paper version's one summary: stored once, by whichever worker read the paper first.

The summarizer reads every parsed paper; the writer reads a paper itself only when a show
needs it before the summarizer got to it. Either way the LLM reads a paper once: both save
through here, both look here first, and each waits while the other is reading
(`wait_for_reader`), so a paper is never read twice at the same time.

The `summary` stage of the version says who is reading: `pending` with the detail
"summarizer" or "writer: <show>" while the LLM reads it, `done` once saved. A reader that
died leaves `pending` behind; it counts for `READ_WAIT_S` after it was set, no longer.
"""

from __future__ import annotations

import time
from pathlib import Path

from radio.artifacts import DataRoot, write_atomic
from radio.store import Store, iso_in
from radio.understanding.facts import FactSheet
from radio.understanding.summarize import SummaryRecord

STAGE = "summary"
READ_WAIT_S = 300.0  # the longest a reader is waited for (the 1.5B model on 2 cores: ~2 min)
POLL_S = 1.0


def summary_target(data: DataRoot, arxiv_id: str, version: int) -> Path:
    """papers/<id>/v<version>/summary.json (raises InvalidId for a bad id)."""
    return data.paper_dir(arxiv_id) / f"v{version}" / "summary.json"


def mark_reading(store: Store, arxiv_id: str, version: int, reader: str) -> None:
    store.set_stage(arxiv_id, version, STAGE, "pending", reader)


def save_summary(store: Store, data: DataRoot, record: SummaryRecord) -> None:
    """summary.json, the `summaries` row and its artifact, then the stage `done`."""
    target = summary_target(data, record.arxiv_id, record.version)
    write_atomic(target, record.model_dump_json(indent=1))
    artifact = data.artifact(target)
    with store.transaction() as t:
        t.record_summary(record.arxiv_id, record.version, record.model_dump_json(),
                         record.grounding.rate, record.model)
        t.record_artifact(artifact, "summary", record.arxiv_id)
    detail = f"{record.mode}, grounding {record.grounding.rate:.2f}, " \
             f"{len(record.grounding.dropped)} sentences dropped"
    store.set_stage(record.arxiv_id, record.version, STAGE, "done", detail)


def stored_facts(store: Store, arxiv_id: str, version: int) -> FactSheet | None:
    """The fact sheet saved for exactly this version, if any."""
    row = store.summary(arxiv_id, version)
    if row is None or row["version"] != version:
        return None
    try:
        record = SummaryRecord.model_validate_json(row["data"])
    except ValueError:
        return None
    return record.facts


def being_read_by(store: Store, arxiv_id: str, version: int) -> str | None:
    """Who is reading this version with the LLM now ("summarizer", "writer: <show>"), if
    anyone; a `pending` older than READ_WAIT_S is a reader that died."""
    row = store.stage_row(arxiv_id, version, STAGE)
    if row is None or row["status"] != "pending":
        return None
    if row["updated_at"] <= iso_in(-READ_WAIT_S):  # the store's times compare as text
        return None
    return row["detail"] or "summarizer"


def wait_for_reader(store: Store, arxiv_id: str, version: int) -> bool:
    """Block until nobody is reading this version; True when it ended with a saved
    summary. Runs in a worker's thread."""
    while being_read_by(store, arxiv_id, version) is not None:
        time.sleep(POLL_S)
    return store.stage(arxiv_id, version, STAGE) == "done"
