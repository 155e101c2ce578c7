"""A process killed with SIGKILL in the middle of a store transaction leaves no half-written
row, and the database takes the next writer at once (SQLite's WAL, PostgreSQL's rollback of
a dropped connection)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from pathlib import Path

import pytest

from radio.store import Store
from tests.support import store_race


@pytest.mark.usefixtures("database_url")
def test_sigkill_mid_transaction_leaves_no_half_written_row(
        tmp_path: Path, database_url: str | None) -> None:
    target = database_url or str(tmp_path / "radio.sqlite3")
    Store(target).close()  # migrated before the race
    ready = tmp_path / "ready"
    process = multiprocessing.get_context("spawn").Process(
        target=store_race.die_mid_transaction, args=(target, str(ready), "2401.00001"))
    process.start()
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert process.is_alive() and time.monotonic() < deadline, "never got that far"
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.join(30)
    assert process.exitcode == -signal.SIGKILL
    store = Store(target)
    assert store.paper("2401.00001") is None
    assert store.versions("2401.00001") == []
    assert store.stage("2401.00001", 1, "fetch") is None
    # The next writer is not kept waiting by the dead one's locks.
    started = time.monotonic()
    with store.transaction() as t:
        t.upsert_paper("2401.00001", 1, title="Whole", authors=[], abstract="",
                       categories=[], source="rss")
        t.set_stage("2401.00001", 1, "fetch", "done")
    assert time.monotonic() - started < 5
    assert store.paper("2401.00001")["title"] == "Whole"
    store.close()
