"""Durable state: the one module that owns the database schema.

SQLite in WAL mode, one file under the data root. The schema grows by appending to
MIGRATIONS (never edit a released one); `PRAGMA user_version` records how far a
database has come. Workers use the inbox for idempotency: a message id that is
already `done` for a worker is never handled again, and `pending` entries left by a
crash are handled again at start-up.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

MIGRATIONS: list[str] = [
    # 1: the station's core tables
    """
    CREATE TABLE papers (
        arxiv_id TEXT PRIMARY KEY,
        latest_version INTEGER NOT NULL,
        title TEXT NOT NULL,
        authors TEXT NOT NULL,            -- JSON list
        abstract TEXT NOT NULL,
        categories TEXT NOT NULL,         -- JSON list
        primary_category TEXT,
        published TEXT,
        updated TEXT,
        licence_url TEXT,
        announce_type TEXT,
        source TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE versions (
        arxiv_id TEXT NOT NULL REFERENCES papers(arxiv_id),
        version INTEGER NOT NULL,
        pdf_path TEXT,
        pdf_sha256 TEXT,
        fetched_at TEXT NOT NULL,
        PRIMARY KEY (arxiv_id, version)
    );
    -- status of each pipeline stage per paper version: pending, done, failed, no_text
    CREATE TABLE stages (
        arxiv_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        stage TEXT NOT NULL,
        status TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        updated_at TEXT NOT NULL,
        PRIMARY KEY (arxiv_id, version, stage)
    );
    CREATE TABLE artifacts (
        path TEXT PRIMARY KEY,
        sha256 TEXT NOT NULL,
        bytes INTEGER NOT NULL,
        kind TEXT NOT NULL,
        owner TEXT NOT NULL,              -- arxiv id or show id
        created_at TEXT NOT NULL
    );
    CREATE TABLE summaries (
        arxiv_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        data TEXT NOT NULL,               -- JSON
        grounding_rate REAL NOT NULL,
        model TEXT NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (arxiv_id, version)
    );
    CREATE TABLE shows (
        show_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        date TEXT NOT NULL,
        title TEXT NOT NULL DEFAULT '',
        status TEXT NOT NULL,             -- requested, written, voiced, recorded, failed
        script_path TEXT,
        request TEXT NOT NULL,            -- JSON of the ShowRequested message
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE segments (
        show_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        speaker TEXT NOT NULL,
        text TEXT NOT NULL,
        paper_id TEXT,
        audio_path TEXT,
        duration_s REAL,
        aired_at TEXT,
        PRIMARY KEY (show_id, seq)
    );
    CREATE TABLE episodes (
        show_id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        mp3_path TEXT NOT NULL,
        transcript_path TEXT NOT NULL,
        chapters_path TEXT NOT NULL,
        duration_s REAL NOT NULL,
        bytes INTEGER NOT NULL,
        loudness_lufs REAL NOT NULL,
        published_at TEXT NOT NULL
    );
    CREATE TABLE schedule (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        at TEXT NOT NULL,
        days TEXT NOT NULL,               -- JSON list of mon..sun
        tz TEXT NOT NULL,
        categories TEXT NOT NULL,         -- JSON list
        length_s INTEGER NOT NULL,
        paused INTEGER NOT NULL DEFAULT 0,
        last_run TEXT,
        created_at TEXT NOT NULL
    );
    CREATE TABLE failures (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        worker TEXT NOT NULL,
        topic TEXT NOT NULL,
        key TEXT,
        reason TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL
    );
    CREATE TABLE inbox (
        worker TEXT NOT NULL,
        msg_id TEXT NOT NULL,
        topic TEXT NOT NULL,
        payload BLOB NOT NULL,
        status TEXT NOT NULL,             -- pending, done, failed
        attempts INTEGER NOT NULL DEFAULT 0,
        error TEXT,
        received_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (worker, msg_id)
    );
    CREATE INDEX inbox_pending ON inbox(worker, status);
    CREATE TABLE kv (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,              -- JSON
        updated_at TEXT NOT NULL
    );
    """,
    # 2: which papers each written show covered (for revisions, "latest" and deep dives)
    """
    CREATE TABLE show_papers (
        show_id TEXT NOT NULL,
        arxiv_id TEXT NOT NULL,
        version INTEGER NOT NULL,
        mode TEXT NOT NULL,               -- discussion, headline, revision, brief, theme
        PRIMARY KEY (show_id, arxiv_id)
    );
    CREATE INDEX show_papers_paper ON show_papers(arxiv_id);
    """,
    # 3: papers an operator asked for (`radio ingest`, the fetcher's `fetch` command): the
    # daily and latest shows take them whatever their categories. Before this, only those
    # paths wrote papers with source 'local' (a PDF) or 'api' (ids); polls write 'rss'.
    """
    ALTER TABLE papers ADD COLUMN by_hand INTEGER NOT NULL DEFAULT 0;
    UPDATE papers SET by_hand = 1 WHERE source IN ('local', 'api');
    """,
]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Store:
    """A thread-safe handle on the station's database."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None,
                                   timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA busy_timeout=30000")
        self._migrate()

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _migrate(self) -> None:
        with self.tx() as db:
            current = db.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(MIGRATIONS[current:], start=current + 1):
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

    @property
    def schema_version(self) -> int:
        return int(self.one("PRAGMA user_version")[0])

    @contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE, so concurrent writers queue, not fail)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self.tx() as db:
            return db.execute(sql, params).rowcount

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._db.execute(sql, params).fetchone()

    # --- inbox: at-least-once delivery made exactly-once in effect ---------------------------

    def inbox_receive(self, worker: str, msg_id: str, topic: str, payload: bytes) -> bool:
        """Record a message; False if this worker already has it (done or in progress)."""
        with self.tx() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO inbox (worker, msg_id, topic, payload, status, received_at,"
                " updated_at) VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                (worker, msg_id, topic, payload, now_iso(), now_iso()),
            )
            return cursor.rowcount == 1

    def inbox_finish(self, worker: str, msg_id: str, *, error: str | None = None,
                     give_up: bool = True) -> None:
        status = "done" if error is None else ("failed" if give_up else "pending")
        self.execute(
            "UPDATE inbox SET status=?, error=?, attempts=attempts+1, updated_at=? "
            "WHERE worker=? AND msg_id=?",
            (status, error, now_iso(), worker, msg_id),
        )

    def inbox_is_pending(self, worker: str, msg_id: str) -> bool:
        return self.one("SELECT 1 FROM inbox WHERE worker=? AND msg_id=? AND status='pending'",
                        (worker, msg_id)) is not None

    def inbox_pending(self, worker: str) -> list[sqlite3.Row]:
        return self.query(
            "SELECT msg_id, topic, payload, attempts FROM inbox WHERE worker=? AND "
            "status='pending' ORDER BY received_at", (worker,))

    def inbox_requeue(self, worker: str, msg_id: str | None = None) -> int:
        """Put failed messages back to pending (all of a worker's, or one)."""
        sql = "UPDATE inbox SET status='pending', attempts=0, updated_at=? WHERE worker=? " \
              "AND status='failed'"
        params: list[Any] = [now_iso(), worker]
        if msg_id:
            sql += " AND msg_id=?"
            params.append(msg_id)
        return self.execute(sql, params)

    def backlog(self, worker: str) -> int:
        row = self.one("SELECT count(*) FROM inbox WHERE worker=? AND status='pending'", (worker,))
        return int(row[0]) if row else 0

    # --- small shared helpers ----------------------------------------------------------------

    def set_stage(self, arxiv_id: str, version: int, stage: str, status: str,
                  detail: str = "") -> None:
        self.execute(
            "INSERT INTO stages (arxiv_id, version, stage, status, detail, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (arxiv_id, version, stage) DO UPDATE SET "
            "status=excluded.status, detail=excluded.detail, updated_at=excluded.updated_at",
            (arxiv_id, version, stage, status, detail[:2000], now_iso()),
        )

    def stage(self, arxiv_id: str, version: int, stage: str) -> str | None:
        row = self.one("SELECT status FROM stages WHERE arxiv_id=? AND version=? AND stage=?",
                       (arxiv_id, version, stage))
        return row[0] if row else None

    def record_failure(self, worker: str, topic: str, key: str | None, reason: str,
                       detail: str = "") -> None:
        self.execute(
            "INSERT INTO failures (worker, topic, key, reason, detail, at) VALUES (?,?,?,?,?,?)",
            (worker, topic, key, reason[:2000], detail[:8000], now_iso()),
        )

    def get_kv(self, key: str, default: Any = None) -> Any:
        row = self.one("SELECT value FROM kv WHERE key=?", (key,))
        return json.loads(row[0]) if row else default

    def set_kv(self, key: str, value: Any) -> None:
        self.execute(
            "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) "
            "DO UPDATE SET value=excluded.value, updated_at=excluded.updated_at",
            (key, json.dumps(value), now_iso()),
        )
