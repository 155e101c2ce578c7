"""Durable state: the one place in the station with SQL.

Every read and write of the database is a named operation here (`upsert_paper`,
`record_artifact`, `record_segment`, `claim_show`, `claim_segment`, ...), each with one
conflict policy, said in its docstring. Workers, the CLI, the web server and the tests call
these; none writes SQL of its own, and none reads another component's private table (the
inbox belongs to the worker runtime, `radio/worker.py`).

Two databases (`radio/store/backends.py`): SQLite in WAL mode, one file under the data
root (the default, what `radio up` uses), or PostgreSQL when `database_url` (environment
`RADIO_DATABASE_URL`, e.g. `postgresql://radio@db/radio`) names one, for a station whose
workers run on several machines. The schema is the numbered SQL files in
`radio/store/migrations/`, applied in order by one runner on both (never edit a released
one; add the next number). Operations that claim work (the inbox, `claim_show`,
`claim_schedule_run`, `claim_segment`, `claim_next_segment`) are single statements whose
WHERE clause or unique key decides the winner, so they hold under concurrent writers on
PostgreSQL (row locks, `ON CONFLICT`, `FOR UPDATE SKIP LOCKED`) as under SQLite's single
writer.

`with store.transaction() as t:` runs several operations in one transaction (`t` has the
same operations as the store).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from radio.store.backends import (
    MIGRATION_FILES,
    MIGRATIONS,
    Connection,
    PostgresBackend,
    Row,
    SqliteBackend,
    is_postgres_url,
)

if TYPE_CHECKING:
    from radio.config import Settings

__all__ = ["MIGRATIONS", "MIGRATION_FILES", "Row", "Store", "Transaction", "iso_in", "now_iso",
           "open_store"]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def iso_in(seconds: float) -> str:
    """The ISO time `seconds` from now (negative: ago), as the store writes times; they
    compare in time order as text (leases, a stage's age)."""
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat(timespec="milliseconds")


def _marks(items: Sequence[Any]) -> str:
    return ",".join("?" * len(items))


class ArtifactLike(Protocol):
    @property
    def path(self) -> str: ...
    @property
    def sha256(self) -> str: ...
    @property
    def bytes(self) -> int: ...


class Operations:
    """The named operations; run on their own transaction, or on one held by the caller."""

    def _tx(self) -> Any:  # a context manager yielding a Connection (a write transaction)
        raise NotImplementedError

    def _read(self) -> Any:
        raise NotImplementedError

    def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._tx() as conn:
            return conn.run(sql, params)

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self._read() as conn:
            return conn.rows(sql, params)

    def _row(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        with self._read() as conn:
            return conn.row(sql, params)

    def _value(self, sql: str, params: Sequence[Any] = (), default: Any = None) -> Any:
        row = self._row(sql, params)
        return default if row is None or row[0] is None else row[0]

    # --- inbox (the worker runtime's): at-least-once delivery made exactly-once in effect --
    # A row belongs to the instance that holds it (`owner`, the worker's instance name) for
    # as long as its lease runs (`lease_until`, renewed by the live owner): a duplicate that
    # reaches another instance meanwhile is dropped, and a dead owner's pending rows are
    # taken over once its lease has run out (on redelivery, or by `inbox_take_over`).

    def inbox_receive(self, worker: str, msg_id: str, topic: str, payload: bytes, *,
                      owner: str = "", lease_s: float = 60.0) -> bool:
        """Record a message for `owner`; True when it is this owner's to handle now: new,
        or pending with a previous owner whose lease has run out (taken over). False for a
        message done, failed, held by a live instance, or already this owner's.
        Policy: first writer wins; a lapsed lease passes the row on (one statement:
        `ON CONFLICT ... DO UPDATE ... WHERE`, which PostgreSQL re-checks on the locked row)."""
        now = now_iso()
        return self._run(
            "INSERT INTO inbox (worker, msg_id, topic, payload, status, received_at, updated_at,"
            " owner, lease_until) VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?) "
            "ON CONFLICT (worker, msg_id) DO UPDATE SET owner=excluded.owner, "
            "lease_until=excluded.lease_until, updated_at=excluded.updated_at "
            "WHERE inbox.status='pending' AND (inbox.owner IS NULL OR inbox.owner <> "
            "excluded.owner) AND (inbox.lease_until IS NULL OR inbox.lease_until < ?)",
            (worker, msg_id, topic, payload, now, now, owner, iso_in(lease_s), now)) == 1

    def inbox_renew(self, worker: str, owner: str, lease_s: float = 60.0) -> int:
        """Extend the lease on every pending row `owner` holds (its heartbeat)."""
        return self._run("UPDATE inbox SET lease_until=? WHERE worker=? AND owner=? AND "
                         "status='pending'", (iso_in(lease_s), worker, owner))

    def inbox_take_over(self, worker: str, owner: str, lease_s: float = 60.0, *,
                        own: bool = False) -> list[Row]:
        """Take the pending rows whose lease has run out (and, with `own`, those `owner`
        already holds: a restart); (msg_id, topic, payload, attempts), oldest first.
        Concurrent callers skip each other's locked rows and re-check the lease, so each row
        goes to one instance."""
        now = now_iso()
        mine = "owner=? OR " if own else ""
        lapsed = (f"status='pending' AND worker=? AND ({mine}owner IS NULL OR "
                  "lease_until IS NULL OR lease_until < ?)")
        params = [worker, *([owner] if own else []), now]
        with self._tx() as conn:
            rows = conn.rows(
                f"UPDATE inbox SET owner=?, lease_until=?, updated_at=? WHERE {lapsed} AND "
                f"(worker, msg_id) IN (SELECT worker, msg_id FROM inbox WHERE {lapsed} "
                "FOR UPDATE SKIP LOCKED) RETURNING msg_id, topic, payload, attempts, received_at",
                [owner, iso_in(lease_s), now, *params, *params])
        return sorted(rows, key=lambda r: (r["received_at"], r["msg_id"]))

    def inbox_finish(self, worker: str, msg_id: str, *, error: str | None = None,
                     give_up: bool = True) -> None:
        status = "done" if error is None else ("failed" if give_up else "pending")
        self._run("UPDATE inbox SET status=?, error=?, attempts=attempts+1, updated_at=? "
                  "WHERE worker=? AND msg_id=?", (status, error, now_iso(), worker, msg_id))

    def inbox_is_pending(self, worker: str, msg_id: str, owner: str | None = None) -> bool:
        """Whether a message is still to do (by `owner`, when given: not taken over)."""
        sql = "SELECT 1 FROM inbox WHERE worker=? AND msg_id=? AND status='pending'"
        params = [worker, msg_id]
        if owner is not None:
            sql, params = sql + " AND owner=?", [*params, owner]
        return self._row(sql, params) is not None

    def inbox_pending(self, worker: str, owner: str | None = None) -> list[Row]:
        """Pending rows of a worker (held by `owner`, when given), oldest first."""
        sql = "SELECT msg_id, topic, payload, attempts FROM inbox WHERE worker=? AND " \
              "status='pending'"
        params = [worker]
        if owner is not None:
            sql, params = sql + " AND owner=?", [*params, owner]
        return self._rows(sql + " ORDER BY received_at", params)

    def inbox_requeue(self, worker: str, msg_id: str | None = None, *,
                      owner: str = "", lease_s: float = 60.0) -> int:
        """Put failed messages back to pending (all of a worker's, or one), held by `owner`
        (the instance that requeued them; the first of several asked wins each row)."""
        sql = "UPDATE inbox SET status='pending', attempts=0, updated_at=?, owner=?, " \
              "lease_until=? WHERE worker=? AND status='failed'"
        params: list[Any] = [now_iso(), owner, iso_in(lease_s), worker]
        if msg_id:
            sql += " AND msg_id=?"
            params.append(msg_id)
        return self._run(sql, params)

    def inbox_received(self, worker: str, topic: str, since: str) -> list[bytes]:
        """Payloads of `topic` this worker received at or after `since`, oldest first."""
        return [bytes(r[0]) for r in self._rows(
            "SELECT payload FROM inbox WHERE worker=? AND topic=? AND received_at >= ? "
            "ORDER BY received_at", (worker, topic, since))]

    def backlog(self, worker: str) -> int:
        return int(self._value("SELECT count(*) FROM inbox WHERE worker=? AND status='pending'",
                               (worker,), 0))

    def inbox_missing(self, worker: str, msg_ids: Sequence[str]) -> set[str]:
        """Which of these message ids this worker never received (for re-announcing)."""
        if not msg_ids:
            return set()
        have = {r[0] for r in self._rows(
            f"SELECT msg_id FROM inbox WHERE worker=? AND msg_id IN ({_marks(msg_ids)})",
            [worker, *msg_ids])}
        return set(msg_ids) - have

    def inbox_workers(self, topic: str) -> list[str]:
        """The workers that have ever received a message on `topic`."""
        return [r[0] for r in self._rows("SELECT DISTINCT worker FROM inbox WHERE topic=?",
                                         (topic,))]

    # --- pipeline stages and failures ------------------------------------------------------

    def set_stage(self, arxiv_id: str, version: int, stage: str, status: str,
                  detail: str = "") -> None:
        """Policy: the latest call wins."""
        self._run(
            "INSERT INTO stages (arxiv_id, version, stage, status, detail, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (arxiv_id, version, stage) DO UPDATE SET "
            "status=excluded.status, detail=excluded.detail, updated_at=excluded.updated_at",
            (arxiv_id, version, stage, status, detail[:2000], now_iso()))

    def stage(self, arxiv_id: str, version: int, stage: str) -> str | None:
        row = self.stage_row(arxiv_id, version, stage)
        return row["status"] if row else None

    def stage_row(self, arxiv_id: str, version: int, stage: str) -> Row | None:
        """(status, detail, updated_at) of one stage of one version."""
        return self._row("SELECT status, detail, updated_at FROM stages WHERE arxiv_id=? AND "
                         "version=? AND stage=?", (arxiv_id, version, stage))

    def stages_in(self, stage: str, status: str) -> list[Row]:
        """(arxiv_id, version) of every version whose `stage` has `status`, oldest first."""
        return self._rows("SELECT arxiv_id, version FROM stages WHERE stage=? AND status=? "
                          "ORDER BY updated_at", (stage, status))

    def stages_since(self, stage: str, statuses: Sequence[str], since: str) -> list[Row]:
        """(arxiv_id, version) of the versions whose `stage` reached one of `statuses` at or
        after `since`, oldest first."""
        return self._rows(f"SELECT arxiv_id, version FROM stages WHERE stage=? AND status IN "
                          f"({_marks(statuses)}) AND updated_at >= ? ORDER BY updated_at",
                          [stage, *statuses, since])

    def all_stages(self, arxiv_ids: Sequence[str] | None = None) -> list[Row]:
        """Every stage row (of these papers), by paper and version."""
        sql = "SELECT arxiv_id, version, stage, status, detail, updated_at FROM stages"
        if arxiv_ids is not None:
            if not arxiv_ids:
                return []
            sql += f" WHERE arxiv_id IN ({_marks(arxiv_ids)})"
        return self._rows(sql + " ORDER BY arxiv_id, version, updated_at", list(arxiv_ids or ()))

    def record_failure(self, worker: str, topic: str, key: str | None, reason: str,
                       detail: str = "") -> None:
        self._run("INSERT INTO failures (worker, topic, key, reason, detail, at) "
                  "VALUES (?,?,?,?,?,?)",
                  (worker, topic, key, reason[:2000], detail[:8000], now_iso()))

    def failures(self, *, worker: str | None = None, paper: str | None = None,
                 limit: int = 100) -> list[Row]:
        """Failures, newest first: all, one worker's, or one paper's (any version)."""
        sql, params = "SELECT worker, topic, key, reason, detail, at FROM failures", []
        if worker is not None:
            sql, params = sql + " WHERE worker=?", [worker]
        elif paper is not None:
            sql, params = sql + " WHERE key=? OR key LIKE ?", [paper, f"{paper}v%"]
        return self._rows(sql + " ORDER BY at DESC, id DESC LIMIT ?", [*params, limit])

    # --- key/value -------------------------------------------------------------------------

    def get_kv(self, key: str, default: Any = None) -> Any:
        row = self._row("SELECT value FROM kv WHERE key=?", (key,))
        return json.loads(row[0]) if row else default

    def set_kv(self, key: str, value: Any) -> None:
        """Policy: the latest call wins."""
        self._run("INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) "
                  "DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at",
                  (key, json.dumps(value), now_iso()))

    def claim_kv(self, key: str, value: Any) -> bool:
        """Set `key` only if nobody has; True for the one caller that did."""
        return self._run("INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) "
                         "ON CONFLICT (key) DO NOTHING", (key, json.dumps(value), now_iso())) == 1

    def delete_kv(self, key: str) -> None:
        self._run("DELETE FROM kv WHERE key=?", (key,))

    # --- papers and versions ---------------------------------------------------------------

    def upsert_paper(self, arxiv_id: str, version: int, *, title: str, authors: Sequence[str],
                     abstract: str, categories: Sequence[str], source: str,
                     primary_category: str | None = None, published: str | None = None,
                     updated: str | None = None, licence_url: str | None = None,
                     announce_type: str | None = None, by_hand: bool = False) -> None:
        """The fetcher's record of a paper. Policy: the newest version's metadata wins (an
        older version changes nothing); `published` keeps its first value, a missing
        licence keeps the known one, and `by_hand` once set stays set."""
        self._run(
            "INSERT INTO papers (arxiv_id, latest_version, title, authors, abstract, categories,"
            " primary_category, published, updated, licence_url, announce_type, source, by_hand,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (arxiv_id) DO UPDATE SET "
            "title=excluded.title, authors=excluded.authors, abstract=excluded.abstract, "
            "categories=excluded.categories, primary_category=excluded.primary_category, "
            "published=coalesce(papers.published, excluded.published), updated=excluded.updated,"
            " licence_url=coalesce(excluded.licence_url, papers.licence_url), "
            "announce_type=excluded.announce_type, source=excluded.source, "
            "by_hand=CASE WHEN excluded.by_hand > papers.by_hand THEN excluded.by_hand "
            "ELSE papers.by_hand END, latest_version=excluded.latest_version "
            "WHERE excluded.latest_version >= papers.latest_version",
            (arxiv_id, version, title, json.dumps(list(authors)), abstract,
             json.dumps(list(categories)), primary_category, published, updated, licence_url,
             announce_type, source, int(by_hand), now_iso()))

    def ensure_paper(self, arxiv_id: str, version: int, *, title: str, authors: Sequence[str],
                     abstract: str, categories: Sequence[str], source: str,
                     primary_category: str | None = None, published: str | None = None,
                     updated: str | None = None, licence_url: str | None = None,
                     announce_type: str | None = None, by_hand: bool = False) -> bool:
        """A paper row for a consumer that learnt of the paper from a message. Policy: insert
        if missing, never change a row that exists (the fetcher's `upsert_paper` owns it)."""
        return self._run(
            "INSERT INTO papers (arxiv_id, latest_version, title, authors, abstract, categories,"
            " primary_category, published, updated, licence_url, announce_type, source, by_hand,"
            " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (arxiv_id) DO NOTHING",
            (arxiv_id, version, title, json.dumps(list(authors)), abstract,
             json.dumps(list(categories)), primary_category, published, updated, licence_url,
             announce_type, source, int(by_hand), now_iso())) == 1

    def set_paper_published(self, arxiv_ids: Sequence[str], published: str) -> int:
        """Correct the publication date of papers (operators and tests)."""
        if not arxiv_ids:
            return 0
        return self._run(f"UPDATE papers SET published=? WHERE arxiv_id IN ({_marks(arxiv_ids)})",
                         [published, *arxiv_ids])

    def paper(self, arxiv_id: str) -> Row | None:
        """Every column of one paper."""
        return self._row("SELECT * FROM papers WHERE arxiv_id=?", (arxiv_id,))

    def papers(self, arxiv_ids: Sequence[str] | None = None) -> list[Row]:
        """Every column of these papers (all papers when None), by arXiv id."""
        if arxiv_ids is None:
            return self._rows("SELECT * FROM papers ORDER BY arxiv_id")
        if not arxiv_ids:
            return []
        return self._rows(f"SELECT * FROM papers WHERE arxiv_id IN ({_marks(arxiv_ids)}) "
                          "ORDER BY arxiv_id", list(arxiv_ids))

    def paper_titles(self, arxiv_ids: Iterable[str]) -> dict[str, str]:
        ids = sorted(set(arxiv_ids))
        if not ids:
            return {}
        return {r[0]: r[1] for r in self._rows(
            f"SELECT arxiv_id, title FROM papers WHERE arxiv_id IN ({_marks(ids)})", ids)}

    def paper_ids(self) -> list[str]:
        return [r[0] for r in self._rows("SELECT arxiv_id FROM papers ORDER BY arxiv_id")]

    def by_hand_ids(self) -> set[str]:
        return {r[0] for r in self._rows("SELECT arxiv_id FROM papers WHERE by_hand=1")}

    def latest_version(self, arxiv_id: str) -> int | None:
        value = self._value("SELECT latest_version FROM papers WHERE arxiv_id=?", (arxiv_id,))
        return None if value is None else int(value)

    def papers_published_before(self, when: str, exclude: str | None = None) -> list[str]:
        return [r[0] for r in self._rows(
            "SELECT arxiv_id FROM papers WHERE published < ? AND arxiv_id != ? "
            "ORDER BY arxiv_id", (when, exclude or ""))]

    def papers_published_between(self, start: str, end: str) -> list[str]:
        """Ids of papers whose publication day is in [start, end) (YYYY-MM-DD)."""
        return [r[0] for r in self._rows(
            "SELECT arxiv_id FROM papers WHERE substr(published, 1, 10) >= ? AND "
            "substr(published, 1, 10) < ? ORDER BY published, arxiv_id", (start, end))]

    def recent_papers(self, limit: int) -> list[Row]:
        """Newest first by publication (or arrival) date."""
        return self._rows("SELECT * FROM papers ORDER BY coalesce(published, created_at) DESC, "
                          "arxiv_id DESC LIMIT ?", (limit,))

    def search_papers(self, words: Sequence[str], limit: int) -> list[Row]:
        """Papers whose title, abstract, authors or id contain every word (any case)."""
        clauses, params = [], []
        for word in words:
            pattern = "%" + word.lower().replace("\\", "\\\\").replace("%", "\\%") \
                .replace("_", "\\_") + "%"
            clauses.append("(lower(title) LIKE ? ESCAPE '\\' OR lower(abstract) LIKE ? "
                           "ESCAPE '\\' OR lower(authors) LIKE ? ESCAPE '\\' OR "
                           "lower(arxiv_id) LIKE ? ESCAPE '\\')")
            params += [pattern] * 4
        where = " AND ".join(clauses) or "1=1"
        return self._rows(f"SELECT * FROM papers WHERE {where} ORDER BY coalesce(published, "
                          "created_at) DESC, arxiv_id DESC LIMIT ?", [*params, limit])

    def record_version(self, arxiv_id: str, version: int, pdf_path: str | None,
                       pdf_sha256: str | None, fetched_at: str | None = None) -> None:
        """The fetcher's record of a downloaded version. Policy: the latest call wins."""
        self._run("INSERT INTO versions (arxiv_id, version, pdf_path, pdf_sha256, fetched_at) "
                  "VALUES (?, ?, ?, ?, ?) ON CONFLICT (arxiv_id, version) DO UPDATE SET "
                  "pdf_path=excluded.pdf_path, pdf_sha256=excluded.pdf_sha256, "
                  "fetched_at=excluded.fetched_at",
                  (arxiv_id, version, pdf_path, pdf_sha256, fetched_at or now_iso()))

    def ensure_version(self, arxiv_id: str, version: int, pdf_path: str | None,
                       pdf_sha256: str | None, fetched_at: str | None = None) -> bool:
        """Policy: insert if missing, never change a row that exists."""
        return self._run("INSERT INTO versions (arxiv_id, version, pdf_path, pdf_sha256, "
                         "fetched_at) VALUES (?, ?, ?, ?, ?) "
                         "ON CONFLICT (arxiv_id, version) DO NOTHING",
                         (arxiv_id, version, pdf_path, pdf_sha256,
                          fetched_at or now_iso())) == 1

    def versions(self, arxiv_id: str | None = None) -> list[Row]:
        """Version rows (of one paper), by paper and version."""
        if arxiv_id is None:
            return self._rows("SELECT * FROM versions ORDER BY arxiv_id, version")
        return self._rows("SELECT * FROM versions WHERE arxiv_id=? ORDER BY version",
                          (arxiv_id,))

    def paper_versions(self) -> list[Row]:
        """Every version joined with its paper's columns (`version`, `fetched_at` added)."""
        return self._rows("SELECT p.*, v.version, v.fetched_at FROM versions v JOIN papers p "
                          "ON p.arxiv_id = v.arxiv_id ORDER BY v.arxiv_id, v.version")

    def count_fetched_since(self, since: str) -> int:
        return int(self._value("SELECT count(*) FROM versions WHERE fetched_at >= ?", (since,),
                               0))

    # --- artifacts -------------------------------------------------------------------------

    def record_artifact(self, artifact: ArtifactLike, kind: str, owner: str) -> None:
        """A file under the data root (path, sha256, bytes). Policy: the latest call wins
        (a file rewritten in place gets its new checksum)."""
        self._run("INSERT INTO artifacts (path, sha256, bytes, kind, owner, created_at) "
                  "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (path) DO UPDATE SET "
                  "sha256=excluded.sha256, bytes=excluded.bytes, kind=excluded.kind, "
                  "owner=excluded.owner, created_at=excluded.created_at",
                  (artifact.path, artifact.sha256, artifact.bytes, kind, owner, now_iso()))

    def text_artifacts(self, owner: str) -> list[str]:
        """Paths of an owner's text artifacts, newest first."""
        return [r[0] for r in self._rows(
            "SELECT path FROM artifacts WHERE owner=? AND kind LIKE '%text%' "
            "ORDER BY created_at DESC", (owner,))]

    def artifact_kinds(self, owner: str) -> list[Row]:
        """Per kind of an owner's artifacts: kind, n, bytes, path (the first)."""
        return self._rows("SELECT kind, count(*) AS n, CAST(sum(bytes) AS BIGINT) AS bytes, "
                          "min(path) AS path FROM artifacts WHERE owner=? GROUP BY kind "
                          "ORDER BY kind", (owner,))

    def count_artifacts(self, kind: str) -> int:
        return int(self._value("SELECT count(*) FROM artifacts WHERE kind=?", (kind,), 0))

    # --- summaries -------------------------------------------------------------------------

    def record_summary(self, arxiv_id: str, version: int, data: str, grounding_rate: float,
                       model: str) -> None:
        """`data` is the summary's JSON. Policy: the latest call wins."""
        self._run("INSERT INTO summaries (arxiv_id, version, data, grounding_rate, model, "
                  "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (arxiv_id, version) "
                  "DO UPDATE SET data=excluded.data, grounding_rate=excluded.grounding_rate, "
                  "model=excluded.model, created_at=excluded.created_at",
                  (arxiv_id, version, data, grounding_rate, model, now_iso()))

    def summary(self, arxiv_id: str, at_most: int | None = None) -> Row | None:
        """The newest summary (at or below version `at_most`): data, version,
        grounding_rate, model."""
        return self._row("SELECT data, version, grounding_rate, model FROM summaries "
                         "WHERE arxiv_id=? AND version<=? ORDER BY version DESC LIMIT 1",
                         (arxiv_id, 1_000_000 if at_most is None else at_most))

    def summaries(self, arxiv_ids: Sequence[str]) -> list[Row]:
        """(arxiv_id, version, data) of these papers, by version (newest last)."""
        if not arxiv_ids:
            return []
        return self._rows(f"SELECT arxiv_id, version, data FROM summaries WHERE arxiv_id IN "
                          f"({_marks(arxiv_ids)}) ORDER BY version", list(arxiv_ids))

    # --- shows -----------------------------------------------------------------------------

    def claim_show(self, show_id: str, kind: str, date: str, request: str, *,
                   title: str = "", status: str = "requested") -> bool:
        """Note a requested show (`request` is its message's JSON); True for the one caller
        that created it. Policy: first writer wins (the show id decides)."""
        return self._run("INSERT INTO shows (show_id, kind, date, title, status, request, "
                         "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                         "ON CONFLICT (show_id) DO NOTHING",
                         (show_id, kind, date, title, status, request, now_iso(),
                          now_iso())) == 1

    def show(self, show_id: str) -> Row | None:
        return self._row("SELECT * FROM shows WHERE show_id=?", (show_id,))

    def shows(self, limit: int = 50) -> list[Row]:
        """Newest first, with `papers`: how many papers each covered."""
        return self._rows(
            "SELECT s.show_id, s.kind, s.date, s.status, s.title, s.updated_at, "
            "(SELECT count(*) FROM show_papers p WHERE p.show_id = s.show_id) AS papers "
            "FROM shows s ORDER BY s.created_at DESC LIMIT ?", (limit,))

    def record_written(self, show_id: str, title: str, script_path: str,
                       papers: Iterable[tuple[str, int, str]]) -> None:
        """Mark a show written and set which papers (arxiv_id, version, mode) it covered, in
        one transaction. Policy: the latest script replaces the show's paper list."""
        with self._tx() as conn:
            conn.run("UPDATE shows SET status='written', title=?, script_path=?, updated_at=? "
                     "WHERE show_id=?", (title, script_path, now_iso(), show_id))
            conn.run("DELETE FROM show_papers WHERE show_id=?", (show_id,))
            conn.many("INSERT INTO show_papers (show_id, arxiv_id, version, mode) "
                      "VALUES (?, ?, ?, ?) ON CONFLICT (show_id, arxiv_id) DO UPDATE SET "
                      "version=excluded.version, mode=excluded.mode",
                      [(show_id, a, v, mode) for a, v, mode in papers])

    def add_show_paper(self, show_id: str, arxiv_id: str, version: int, mode: str) -> None:
        """One paper a show covered. Policy: the latest call wins."""
        self._run("INSERT INTO show_papers (show_id, arxiv_id, version, mode) VALUES "
                  "(?, ?, ?, ?) ON CONFLICT (show_id, arxiv_id) DO UPDATE SET "
                  "version=excluded.version, mode=excluded.mode",
                  (show_id, arxiv_id, version, mode))

    def mark_show_failed(self, show_id: str, reason: str) -> None:
        self._run("UPDATE shows SET status='failed', title=?, updated_at=? WHERE show_id=?",
                  (reason[:200], now_iso(), show_id))

    def mark_show_voiced(self, show_id: str) -> bool:
        """Only a requested or written show becomes voiced (a recorded one stays recorded)."""
        return self._run("UPDATE shows SET status='voiced', updated_at=? WHERE show_id=? AND "
                         "status IN ('requested', 'written')", (now_iso(), show_id)) == 1

    def show_requests(self, statuses: Sequence[str], since: str | None = None) -> list[str]:
        """The request JSON of every show in one of these statuses (requested at or after
        `since`, an ISO time, when given), oldest first."""
        sql, params = f"SELECT request FROM shows WHERE status IN ({_marks(statuses)})", \
            list(statuses)
        if since is not None:
            sql, params = sql + " AND created_at >= ?", [*params, since]
        return [r[0] for r in self._rows(sql + " ORDER BY created_at, show_id", params)]

    def shows_since(self, statuses: Sequence[str], since: str) -> list[str]:
        """Ids of the shows in one of these statuses, changed at or after `since`."""
        return [r[0] for r in self._rows(
            f"SELECT show_id FROM shows WHERE status IN ({_marks(statuses)}) AND "
            f"updated_at >= ? ORDER BY updated_at", [*statuses, since])]

    def shows_of_paper(self, arxiv_id: str, limit: int = 10) -> list[Row]:
        """(show_id, title, status) of the shows that covered a paper, newest first."""
        return self._rows("SELECT s.show_id, s.title, s.status FROM show_papers sp JOIN shows s "
                          "ON s.show_id = sp.show_id WHERE sp.arxiv_id=? "
                          "ORDER BY s.date DESC, s.show_id DESC LIMIT ?", (arxiv_id, limit))

    def aired_version_below(self, arxiv_id: str, version: int) -> int | None:
        """The newest version of a paper below `version` that a show covered."""
        value = self._value("SELECT max(version) FROM show_papers WHERE arxiv_id=? AND "
                            "version<?", (arxiv_id, version))
        return None if value is None else int(value)

    def covered_ids(self, modes: Sequence[str] | None = None) -> set[str]:
        """Papers some show covered (in one of these modes)."""
        sql, params = "SELECT DISTINCT arxiv_id FROM show_papers", list(modes or ())
        if modes:
            sql += f" WHERE mode IN ({_marks(modes)})"
        return {r[0] for r in self._rows(sql, params)}

    def queued_show_titles(self, arxiv_ids: Sequence[str]) -> dict[str, str]:
        """arxiv id -> title of a written, voiced or recorded show that covers it."""
        if not arxiv_ids:
            return {}
        return {r[0]: r[1] for r in self._rows(
            f"SELECT sp.arxiv_id, s.title FROM show_papers sp JOIN shows s ON "
            f"s.show_id = sp.show_id WHERE s.status IN ('written', 'voiced', 'recorded') AND "
            f"sp.arxiv_id IN ({_marks(arxiv_ids)}) ORDER BY s.show_id", list(arxiv_ids))}

    # --- segments: the voiced lines of shows ----------------------------------------------

    def record_segment(self, show_id: str, seq: int, speaker: str, text: str,
                       paper_id: str | None, audio_path: str | None,
                       duration_s: float | None) -> None:
        """The tts worker's record of a voiced line (it owns the row). Policy: the latest
        call wins for the content (a re-voiced line); airing and claims are kept."""
        self._run("INSERT INTO segments (show_id, seq, speaker, text, paper_id, audio_path, "
                  "duration_s) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (show_id, seq) DO UPDATE "
                  "SET speaker=excluded.speaker, text=excluded.text, paper_id=excluded.paper_id,"
                  " audio_path=excluded.audio_path, duration_s=excluded.duration_s",
                  (show_id, seq, speaker, text, paper_id, audio_path, duration_s))

    def note_segment(self, show_id: str, seq: int, speaker: str, text: str,
                     paper_id: str | None, audio_path: str | None,
                     duration_s: float | None) -> None:
        """A consumer's record of a line it learnt of from a `SegmentVoiced` message (the
        playout, the recorder). Policy: insert if missing; a row that exists keeps its
        values and only gets an audio path and duration where it had none (the tts
        worker's own row wins: a delayed message never undoes a re-voiced line)."""
        self._run("INSERT INTO segments (show_id, seq, speaker, text, paper_id, audio_path, "
                  "duration_s) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (show_id, seq) DO UPDATE "
                  "SET audio_path=coalesce(segments.audio_path, excluded.audio_path), "
                  "duration_s=coalesce(segments.duration_s, excluded.duration_s)",
                  (show_id, seq, speaker, text, paper_id, audio_path, duration_s))

    def segment(self, show_id: str, seq: int) -> Row | None:
        return self._row("SELECT * FROM segments WHERE show_id=? AND seq=?", (show_id, seq))

    def segments(self, show_id: str, *, voiced: bool = False, from_seq: int = 0) -> list[Row]:
        """A show's lines in seq order (only those with audio when `voiced`)."""
        sql = "SELECT * FROM segments WHERE show_id=? AND seq>=?"
        if voiced:
            sql += " AND audio_path IS NOT NULL"
        return self._rows(sql + " ORDER BY seq", (show_id, from_seq))

    def count_segments(self, show_id: str, *, voiced: bool = False) -> int:
        sql = "SELECT count(*) FROM segments WHERE show_id=?"
        if voiced:
            sql += " AND audio_path IS NOT NULL"
        return int(self._value(sql, (show_id,), 0))

    def delete_segments_from(self, show_id: str, seq: int) -> int:
        """Forget a show's lines from `seq` on (a rewritten, shorter script)."""
        return self._run("DELETE FROM segments WHERE show_id=? AND seq>=?", (show_id, seq))

    def unaired_seconds(self) -> float:
        """Voiced airtime that has not aired yet."""
        return float(self._value("SELECT coalesce(sum(duration_s), 0) FROM segments "
                                 "WHERE aired_at IS NULL AND duration_s IS NOT NULL", (), 0.0))

    def mark_aired(self, show_id: str, seq: int, *, position: tuple[str, Any] | None = None,
                   aired_at: str | None = None) -> None:
        """A line has aired; `position` (kv key, value) is saved in the same transaction."""
        with self._tx() as conn:
            conn.run("UPDATE segments SET aired_at=? WHERE show_id=? AND seq=?",
                     (aired_at or now_iso(), show_id, seq))
            if position is not None:
                Transaction(conn).set_kv(*position)

    def aired_at(self, show_ids: Sequence[str]) -> dict[tuple[str, int], str]:
        """(show_id, seq) -> when it aired, for the aired lines of these shows."""
        if not show_ids:
            return {}
        return {(r[0], int(r[1])): r[2] for r in self._rows(
            f"SELECT show_id, seq, aired_at FROM segments WHERE aired_at IS NOT NULL AND "
            f"show_id IN ({_marks(show_ids)})", list(show_ids))}

    def last_aired(self, paper_ids: Sequence[str]) -> dict[str, str]:
        """paper id -> when a line about it last aired."""
        if not paper_ids:
            return {}
        return {r[0]: r[1] for r in self._rows(
            f"SELECT paper_id, max(aired_at) FROM segments WHERE aired_at IS NOT NULL AND "
            f"paper_id IN ({_marks(paper_ids)}) GROUP BY paper_id", list(paper_ids))}

    def claim_segment(self, show_id: str, seq: int, by: str) -> bool:
        """Claim one line for airing; True for exactly one claimer (or a repeat claim by the
        same one). The row lock and the WHERE clause decide on PostgreSQL: a second
        claimer waits for the first to commit, then finds the line taken."""
        return self._run("UPDATE segments SET claimed_by=?, claimed_at=? WHERE show_id=? AND "
                         "seq=? AND (claimed_by IS NULL OR claimed_by=?)",
                         (by, now_iso(), show_id, seq, by)) == 1

    def claim_next_segment(self, by: str, show_id: str | None = None) -> Row | None:
        """Claim the first unclaimed voiced line (of one show, or of any, by show and seq);
        None when there is none. Concurrent claimers skip each other's locked rows
        (`FOR UPDATE SKIP LOCKED`), so each gets a different line and none waits."""
        scope, params = ("AND show_id=? ", [show_id]) if show_id else ("", [])
        return self._row_tx(
            "UPDATE segments SET claimed_by=?, claimed_at=? WHERE claimed_by IS NULL AND "
            "(show_id, seq) = (SELECT show_id, seq FROM segments WHERE claimed_by IS NULL AND "
            f"audio_path IS NOT NULL {scope}ORDER BY show_id, seq LIMIT 1 "
            "FOR UPDATE SKIP LOCKED) RETURNING *", [by, now_iso(), *params])

    def _row_tx(self, sql: str, params: Sequence[Any]) -> Row | None:
        with self._tx() as conn:
            return conn.row(sql, params)

    # --- episodes --------------------------------------------------------------------------

    def save_episode(self, show_id: str, title: str, mp3_path: str, transcript_path: str,
                     chapters_path: str, duration_s: float, size: int, loudness_lufs: float,
                     published_at: str | None = None) -> bool:
        """Record an episode and mark its show recorded, in one transaction; False if the
        show already has one. Policy: first writer wins (another recorder was first)."""
        with self._tx() as conn:
            inserted = conn.run(
                "INSERT INTO episodes (show_id, title, mp3_path, transcript_path, chapters_path,"
                " duration_s, bytes, loudness_lufs, published_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (show_id) DO NOTHING",
                (show_id, title, mp3_path, transcript_path, chapters_path, duration_s, size,
                 loudness_lufs, published_at or now_iso())) == 1
            conn.run("UPDATE shows SET status='recorded', updated_at=? WHERE show_id=?",
                     (now_iso(), show_id))
        return inserted

    def episode(self, show_id: str) -> Row | None:
        return self._row("SELECT * FROM episodes WHERE show_id=?", (show_id,))

    def episodes(self, limit: int | None = None) -> list[Row]:
        """Newest first."""
        sql = "SELECT * FROM episodes ORDER BY published_at DESC, show_id DESC"
        if limit is None:
            return self._rows(sql)
        return self._rows(sql + " LIMIT ?", (limit,))

    def delete_episode(self, show_id: str) -> bool:
        return self._run("DELETE FROM episodes WHERE show_id=?", (show_id,)) == 1

    def count_episodes(self) -> int:
        return int(self._value("SELECT count(*) FROM episodes", (), 0))

    # --- the schedule ----------------------------------------------------------------------

    def schedule_rows(self) -> list[Row]:
        return self._rows("SELECT * FROM schedule ORDER BY id")

    def schedule_row(self, entry_id: int) -> Row | None:
        return self._row("SELECT * FROM schedule WHERE id=?", (entry_id,))

    def add_schedule(self, kind: str, at: str, days: Sequence[str], tz: str,
                     categories: Sequence[str], length_s: int,
                     created_at: str | None = None) -> int:
        row = self._row_tx(
            "INSERT INTO schedule (kind, at, days, tz, categories, length_s, paused, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, 0, ?) RETURNING id",
            (kind, at, json.dumps(list(days)), tz, json.dumps(list(categories)), length_s,
             created_at or now_iso()))
        return int(row[0]) if row else 0

    def remove_schedule(self, entry_id: int) -> bool:
        return self._run("DELETE FROM schedule WHERE id=?", (entry_id,)) == 1

    def set_schedule_paused(self, entry_id: int, paused: bool) -> bool:
        """Pausing keeps last_run; resuming sets it to now, so shows missed while paused
        do not all fire at once."""
        if paused:
            return self._run("UPDATE schedule SET paused=1 WHERE id=?", (entry_id,)) == 1
        return self._run("UPDATE schedule SET paused=0, last_run=? WHERE id=?",
                         (now_iso(), entry_id)) == 1

    def set_last_run(self, entry_id: int, when: str) -> None:
        self._run("UPDATE schedule SET last_run=? WHERE id=?", (when, entry_id))

    def claim_schedule_run(self, entry_id: int, seen: str | None, due: str) -> bool:
        """Move an entry's last_run from `seen` (what the caller read) to `due`; True for
        the one scheduler that did, so a show due once fires once however many schedulers
        race for it (compare-and-set: the row lock and the WHERE clause decide)."""
        if seen is None:
            return self._run("UPDATE schedule SET last_run=? WHERE id=? AND last_run IS NULL",
                             (due, entry_id)) == 1
        return self._run("UPDATE schedule SET last_run=? WHERE id=? AND last_run=?",
                         (due, entry_id, seen)) == 1


class Transaction(Operations):
    """The operations on one open transaction (see `Store.transaction`)."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def _tx(self) -> Any:
        return nullcontext(self._conn)

    _read = _tx


class Store(Operations):
    """A thread-safe handle on the station's database (SQLite file or PostgreSQL URL)."""

    def __init__(self, target: Path | str) -> None:
        if isinstance(target, str) and is_postgres_url(target):
            self.backend: SqliteBackend | PostgresBackend = PostgresBackend(target)
            self.path: Path | None = None
        else:
            self.backend = SqliteBackend(Path(target))
            self.path = Path(target)
        self.schema_version = self.backend.migrate()

    @classmethod
    def open(cls, settings: Settings) -> Store:
        """The station's store: `database_url` when set, else SQLite under `data_dir`."""
        return cls(settings.database_url or settings.database_path)

    def __repr__(self) -> str:
        return f"Store({self.backend!r})"

    @property
    def kind(self) -> str:
        return self.backend.name

    def close(self) -> None:
        self.backend.close()

    def journal_mode(self) -> str:
        return self.backend.journal_mode()

    def _tx(self) -> Any:
        return self.backend.tx()

    def _read(self) -> Any:
        return self.backend.read()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Several operations in one transaction: all of them, or (on an exception) none."""
        with self.backend.tx() as conn:
            yield Transaction(conn)


def open_store(settings: Settings) -> Store:
    return Store.open(settings)
