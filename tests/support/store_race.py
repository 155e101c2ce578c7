"""Processes that race for the same work on one store (SQLite file or PostgreSQL URL).

Each function runs in its own process (multiprocessing, spawn): it opens its own Store,
waits at the barrier so that all racers start together, and returns what it won.
"""

from __future__ import annotations

from typing import Any

from radio.store import Store


def claim_segments(target: str, name: str, barrier: Any) -> list[tuple[str, int]]:
    """Claim lines with `claim_next_segment` until none is left."""
    store = Store(target)
    won = []
    barrier.wait()
    while (row := store.claim_next_segment(name)) is not None:
        won.append((row["show_id"], int(row["seq"])))
    store.close()
    return won


def claim_each(target: str, name: str, barrier: Any, keys: list[tuple[str, int]],
               ) -> list[tuple[str, int]]:
    """Try to claim every one of `keys` with `claim_segment`; the ones this process won."""
    store = Store(target)
    barrier.wait()
    won = [key for key in keys if store.claim_segment(key[0], key[1], name)]
    store.close()
    return won


def fire_schedule(target: str, name: str, barrier: Any, entry_id: int, dues: list[str],
                  ) -> list[str]:
    """A scheduler: for each due time, read last_run, then try to move it on (and claim the
    show). Returns the shows this process fired."""
    store = Store(target)
    barrier.wait()
    fired = []
    for due in dues:
        row = store.schedule_row(entry_id)
        seen = row["last_run"] if row else None
        if seen is not None and seen >= due:
            continue  # already fired by someone else
        if store.claim_schedule_run(entry_id, seen, due):
            show_id = f"daily-{due[:10]}"
            if store.claim_show(show_id, "daily", due[:10], "{}"):
                fired.append(show_id)
    store.close()
    return fired


def receive(target: str, name: str, barrier: Any, ids: list[str]) -> list[str]:
    """One worker instance receiving redelivered messages: the ids it got to handle."""
    store = Store(target)
    barrier.wait()
    won = [i for i in ids if store.inbox_receive("summarizer", i, "papers/parsed", b"{}",
                                                 owner=name)]
    store.close()
    return won


def take_over(target: str, name: str, barrier: Any) -> list[str]:
    """A live instance's heartbeat taking over a dead one's pending messages, a few at a
    time (each call takes what has lapsed); the ids it took."""
    store = Store(target)
    barrier.wait()
    won = [r["msg_id"] for _ in range(5) for r in store.inbox_take_over("summarizer", name)]
    store.close()
    return won


def die_mid_transaction(target: str, ready: str, arxiv_id: str) -> None:
    """Write a paper, its version and its stage in one transaction, say so, and wait there
    (the test kills this process with SIGKILL before the transaction commits)."""
    import time
    from pathlib import Path

    store = Store(target)
    with store.transaction() as t:
        t.upsert_paper(arxiv_id, 1, title="Half written", authors=[], abstract="",
                       categories=[], source="rss")
        t.record_version(arxiv_id, 1, f"papers/{arxiv_id}/v1.pdf", "ab")
        t.set_stage(arxiv_id, 1, "fetch", "done")
        Path(ready).write_text("in the transaction")
        time.sleep(120)
