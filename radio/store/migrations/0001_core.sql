-- 1: the station's core tables
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

