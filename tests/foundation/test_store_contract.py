"""The store's contract, on both databases: SQLite (a file) and a real PostgreSQL started
here on 127.0.0.1 (tests/support/postgres.py). Claims are raced by separate processes."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from radio.store import MIGRATIONS, Store
from tests.support import store_race

ROOT = Path(__file__).resolve().parents[2]
_numbers = itertools.count()


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a fresh, empty store lives: a SQLite path or a new PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "radio.sqlite3")
    server = request.getfixturevalue("postgres_server")
    return server.fresh_database(f"t{next(_numbers)}")


@pytest.fixture
def store(target: str) -> Iterator[Store]:
    opened = Store(target)
    yield opened
    opened.close()


def _paper(store, arxiv_id: str = "2401.00001", version: int = 1, **extra) -> None:
    fields = dict(title=f"Title v{version}", authors=["A. Author"], abstract="An abstract.",
                  categories=["cs.CL"], source="rss")
    store.upsert_paper(arxiv_id, version, **{**fields, **extra})


# --- schema ---------------------------------------------------------------------------------


def test_migrations_run_once(target: str) -> None:
    first = Store(target)
    assert first.schema_version == len(MIGRATIONS)
    first.set_kv("k", {"v": 1})
    first.close()
    again = Store(target)  # a second open migrates nothing and loses nothing
    assert again.schema_version == len(MIGRATIONS) and again.get_kv("k") == {"v": 1}
    again.close()


def test_no_sql_outside_the_store() -> None:
    """The store is the only place with SQL (the migration test builds a database from
    before the store's `schema_migrations` with sqlite3 itself)."""
    allowed = {"tests/ingest/test_by_hand.py"}
    sql = re.compile(r"\b(?:SELECT\s+[\w*(]|INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE\s+\w+\s+SET|"
                     r"DELETE\s+FROM|CREATE\s+TABLE)\b")
    found = []
    for folder in ("radio", "tests", "scripts"):
        for path in (ROOT / folder).rglob("*.py"):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("radio/store/") or rel in allowed or rel == \
                    "tests/foundation/test_store_contract.py":
                continue
            found += [f"{rel}:{n}" for n, line in enumerate(path.read_text().splitlines(), 1)
                      if sql.search(line)]
    assert found == []


# --- inbox ----------------------------------------------------------------------------------


def test_inbox_deduplicates_and_requeues(store: Store) -> None:
    assert store.inbox_receive("pdf", "m1", "papers/fetched", b"{\x00}")
    assert not store.inbox_receive("pdf", "m1", "papers/fetched", b"{}")
    assert store.inbox_receive("tts", "m1", "papers/fetched", b"{}")  # per worker
    assert store.backlog("pdf") == 1 and store.inbox_is_pending("pdf", "m1")
    assert [bytes(r["payload"]) for r in store.inbox_pending("pdf")] == [b"{\x00}"]
    assert store.inbox_received("pdf", "papers/fetched", "2000") == [b"{\x00}"]
    store.inbox_finish("pdf", "m1", error="boom")
    assert store.backlog("pdf") == 0
    assert store.inbox_requeue("pdf") == 1 and store.backlog("pdf") == 1
    store.inbox_finish("pdf", "m1")
    assert store.backlog("pdf") == 0 and not store.inbox_is_pending("pdf", "m1")


def test_inbox_rows_belong_to_an_instance_until_its_lease_runs_out(store: Store) -> None:
    assert store.inbox_receive("summarizer", "m1", "papers/parsed", b"{}", owner="a")
    # A duplicate reaching another instance while "a" lives is dropped, and so is a
    # redelivery to "a" itself (it has the message already).
    assert not store.inbox_receive("summarizer", "m1", "papers/parsed", b"{}", owner="b")
    assert not store.inbox_receive("summarizer", "m1", "papers/parsed", b"{}", owner="a")
    assert store.inbox_take_over("summarizer", "b") == []
    assert store.inbox_is_pending("summarizer", "m1", "a")
    assert not store.inbox_is_pending("summarizer", "m1", "b")
    # "a" dies: once its lease has run out the redelivery goes to "b", which now holds it.
    assert store.inbox_receive("summarizer", "m2", "papers/parsed", b"2", owner="a",
                               lease_s=0.05)
    assert store.inbox_receive("summarizer", "m3", "papers/parsed", b"3", owner="a",
                               lease_s=0.05)
    time.sleep(0.1)
    assert store.inbox_receive("summarizer", "m2", "papers/parsed", b"2", owner="b")
    assert not store.inbox_is_pending("summarizer", "m2", "a")
    assert [r["msg_id"] for r in store.inbox_pending("summarizer", "b")] == ["m2"]
    # ... and without a redelivery, its heartbeat takes the rest over (m3, not m1: a's
    # lease on m1 still runs).
    assert [bytes(r["payload"]) for r in store.inbox_take_over("summarizer", "b")] == [b"3"]
    assert store.inbox_take_over("summarizer", "c") == []
    # A restarted "a" finds what it still holds; a renewed lease keeps it.
    assert [r["msg_id"] for r in store.inbox_take_over("summarizer", "a", own=True)] == ["m1"]
    assert store.inbox_renew("summarizer", "b", lease_s=60) == 2
    store.inbox_finish("summarizer", "m2")
    assert not store.inbox_receive("summarizer", "m2", "papers/parsed", b"2", owner="c")
    assert store.backlog("summarizer") == 2  # m1 (a), m3 (b)


# --- papers ---------------------------------------------------------------------------------


def test_upsert_paper_newest_version_wins(store: Store) -> None:
    _paper(store, version=2, published="2024-01-01T00:00:00", licence_url="http://cc/by",
           by_hand=True)
    _paper(store, version=1)  # an older version changes nothing
    row = store.paper("2401.00001")
    assert (row["title"], row["latest_version"], row["by_hand"]) == ("Title v2", 2, 1)
    _paper(store, version=3, published="2025-01-01T00:00:00", licence_url=None)
    row = store.paper("2401.00001")
    assert row["title"] == "Title v3" and row["latest_version"] == 3
    assert row["published"] == "2024-01-01T00:00:00"  # the first publication date stays
    assert row["licence_url"] == "http://cc/by" and row["by_hand"] == 1
    assert json.loads(row["authors"]) == ["A. Author"]
    assert not store.ensure_paper("2401.00001", 9, title="other", authors=[], abstract="",
                                  categories=[], source="api")
    assert store.paper("2401.00001")["title"] == "Title v3"
    assert store.latest_version("2401.00001") == 3 and store.by_hand_ids() == {"2401.00001"}
    assert dict(store.paper("2401.00001"))["source"] == "rss"


def test_versions_artifacts_and_searches(store: Store) -> None:
    class Art:
        def __init__(self, path: str, sha: str, size: int) -> None:
            self.path, self.sha256, self.bytes = path, sha, size

    _paper(store, "2401.00001", published="2024-01-02T10:00:00")
    _paper(store, "2401.00002", title="50% faster_search", published="2024-01-05T10:00:00")
    with store.transaction() as t:
        t.record_version("2401.00001", 1, "papers/2401.00001/v1.pdf", "aa")
        t.record_artifact(Art("papers/2401.00001/v1.pdf", "aa", 10), "pdf", "2401.00001")
        t.record_artifact(Art("papers/2401.00001/text.txt", "bb", 5), "text", "2401.00001")
    store.record_artifact(Art("papers/2401.00001/text.txt", "cc", 7), "text", "2401.00001")
    assert not store.ensure_version("2401.00001", 1, "elsewhere", "zz")
    assert [r["pdf_path"] for r in store.versions("2401.00001")] == ["papers/2401.00001/v1.pdf"]
    kinds = {r["kind"]: (r["n"], r["bytes"]) for r in store.artifact_kinds("2401.00001")}
    assert kinds == {"pdf": (1, 10), "text": (1, 7)}
    assert store.text_artifacts("2401.00001") == ["papers/2401.00001/text.txt"]
    assert store.count_fetched_since("2000-01-01") == 1
    assert [r["arxiv_id"] for r in store.search_papers(["50%"], 10)] == ["2401.00002"]
    assert store.search_papers(["5_%"], 10) == []  # % and _ are literal
    assert [r["arxiv_id"] for r in store.search_papers(["TITLE", "v1"], 10)] == \
        ["2401.00001"]
    assert store.papers_published_between("2024-01-01", "2024-01-03") == ["2401.00001"]
    assert store.papers_published_before("2024-01-05", "2401.00002") == ["2401.00001"]
    assert store.paper_titles(["2401.00001", "9999.99999"]) == {"2401.00001": "Title v1"}


def test_a_failed_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction() as t:
        _paper(t)
        t.set_stage("2401.00001", 1, "fetch", "pending")
        raise RuntimeError("crash between the rows")
    assert store.paper("2401.00001") is None and store.stage("2401.00001", 1, "fetch") is None


# --- shows, segments, episodes, schedule ----------------------------------------------------


def test_shows_first_claim_wins_and_track_their_papers(store: Store) -> None:
    assert store.claim_show("daily-2026-01-01", "daily", "2026-01-01", '{"length_s": 600}')
    assert not store.claim_show("daily-2026-01-01", "daily", "2026-01-01", "{}")
    store.record_written("daily-2026-01-01", "Daily", "shows/daily/script.json",
                         [("2401.00001", 2, "discussion"), ("2401.00002", 1, "headline")])
    assert store.show("daily-2026-01-01")["status"] == "written"
    assert store.covered_ids(("discussion",)) == {"2401.00001"}
    assert store.aired_version_below("2401.00001", 3) == 2
    assert store.aired_version_below("2401.00001", 2) is None
    assert store.queued_show_titles(["2401.00002"]) == {"2401.00002": "Daily"}
    assert [r["papers"] for r in store.shows()] == [2]
    assert store.show_requests(("written",)) == ['{"length_s": 600}']
    assert store.mark_show_voiced("daily-2026-01-01")
    assert store.save_episode("daily-2026-01-01", "Daily", "e.mp3", "e.vtt", "e.json", 60.0,
                              1000, -16.0)
    assert not store.save_episode("daily-2026-01-01", "x", "x", "x", "x", 1.0, 1, -16.0)
    assert store.show("daily-2026-01-01")["status"] == "recorded"
    assert not store.mark_show_voiced("daily-2026-01-01")  # recorded stays recorded
    assert store.count_episodes() == 1 and store.episode("daily-2026-01-01")["title"] == "Daily"
    assert store.delete_episode("daily-2026-01-01") and store.episodes() == []


def test_segment_policies(store: Store) -> None:
    store.note_segment("s", 0, "Mira", "old", None, None, None)  # a consumer's row first
    store.record_segment("s", 0, "Alex", "new", "2401.00001", "shows/s/000.wav", 2.5)
    store.note_segment("s", 0, "Mira", "stale", None, "shows/s/stale.wav", 9.0)
    row = store.segment("s", 0)
    assert (row["speaker"], row["text"], row["audio_path"], row["duration_s"]) == \
        ("Alex", "new", "shows/s/000.wav", 2.5)  # the owner's row wins
    store.note_segment("s", 1, "Mira", "two", None, "shows/s/001.wav", 1.5)
    assert store.count_segments("s") == 2 and store.unaired_seconds() == 4.0
    store.mark_aired("s", 0, position=("playout.position", {"seq": 0}))
    assert store.get_kv("playout.position") == {"seq": 0}
    assert set(store.aired_at(["s"])) == {("s", 0)} and store.unaired_seconds() == 1.5
    assert store.delete_segments_from("s", 1) == 1 and store.count_segments("s") == 1
    assert store.claim_segment("s", 0, "a") and store.claim_segment("s", 0, "a")
    assert not store.claim_segment("s", 0, "b")


def test_schedule_entries(store: Store) -> None:
    first = store.add_schedule("daily", "09:00", ["mon"], "UTC", [], 1800)
    second = store.add_schedule("weekly", "18:00", ["sun"], "UTC", ["cs.CL"], 2700)
    assert second > first
    assert store.set_schedule_paused(first, True) and store.schedule_row(first)["paused"] == 1
    assert store.set_schedule_paused(first, False)
    assert store.schedule_row(first)["last_run"] is not None  # resuming starts afresh
    assert store.claim_schedule_run(second, None, "2026-01-04T18:00:00+00:00")
    assert not store.claim_schedule_run(second, None, "2026-01-04T18:00:00+00:00")
    assert store.remove_schedule(first) and [r["id"] for r in store.schedule_rows()] == [second]
    assert store.claim_kv("seeded", True) and not store.claim_kv("seeded", False)


# --- claims under concurrent writers (separate processes) -----------------------------------

RACERS = 4


def _race(function, target: str, *args) -> list:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Manager().Barrier(RACERS)
    with ctx.Pool(RACERS) as pool:
        results = [pool.apply_async(function, (target, f"racer{n}", barrier, *args))
                   for n in range(RACERS)]
        return [r.get(timeout=120) for r in results]


def _voiced_show(store: Store, lines: int) -> list[tuple[str, int]]:
    with store.transaction() as t:
        for seq in range(lines):
            t.record_segment("show", seq, "Mira", f"line {seq}", None, f"a/{seq}.wav", 1.0)
    return [("show", seq) for seq in range(lines)]


def test_racing_playouts_claim_each_segment_once(store: Store, target: str) -> None:
    keys = _voiced_show(store, 60)
    won = _race(store_race.claim_each, target, keys)
    counts = Counter(key for each in won for key in each)
    assert sorted(counts) == keys and set(counts.values()) == {1}, counts.most_common(3)


def test_racing_playouts_take_the_next_segment_without_duplicates(store: Store,
                                                                  target: str) -> None:
    keys = _voiced_show(store, 80)
    won = _race(store_race.claim_segments, target)
    claimed = [key for each in won for key in each]
    assert sorted(claimed) == keys  # every line once: none twice, none lost
    for each in won:
        assert each == sorted(each)  # each racer takes lines in order


@pytest.mark.slow
def test_racing_schedulers_fire_a_show_once(store: Store, target: str) -> None:
    entry = store.add_schedule("daily", "09:00", ["mon", "tue", "wed", "thu", "fri"], "UTC",
                               [], 1800)
    dues = [f"2026-01-{day:02d}T09:00:00+00:00" for day in range(5, 25)]
    fired = _race(store_race.fire_schedule, target, entry, dues)
    shows = Counter(show for each in fired for show in each)
    assert sorted(shows) == [f"daily-{d[:10]}" for d in dues] and set(shows.values()) == {1}


@pytest.mark.slow
def test_racing_instances_receive_a_message_once(store: Store, target: str) -> None:
    ids = [f"msg-{n}" for n in range(100)]
    got = Counter(i for each in _race(store_race.receive, target, ids) for i in each)
    assert sorted(got) == sorted(ids) and set(got.values()) == {1}


def test_racing_instances_take_over_a_dead_instance_s_work_once(store: Store,
                                                                 target: str) -> None:
    ids = [f"msg-{n}" for n in range(100)]
    for i in ids:
        store.inbox_receive("summarizer", i, "papers/parsed", b"{}", owner="dead", lease_s=0)
    got = Counter(i for each in _race(store_race.take_over, target) for i in each)
    assert sorted(got) == sorted(ids) and set(got.values()) == {1}, got.most_common(3)
    assert store.inbox_pending("summarizer", "dead") == []
