"""Every message on the bus: one typed model per topic, JSON on the wire.

Each model names its topic (`TOPIC`, relative to the configured prefix), carries a
`schema_version`, and an `id` that is the idempotency key: it is derived from the
fields in `KEY_FIELDS`, so the same piece of work always gets the same id, and a
redelivered or re-published message is recognised and not handled twice.

Large artifacts never travel here: `Artifact` names a path under the data root and
its sha256.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


def utcnow() -> datetime:
    return datetime.now(UTC)


PaperSource = Literal["api", "rss", "oai", "local"]
WorkerState = Literal["starting", "online", "offline"]
AirMode = Literal["live", "fallback", "ident", "idle"]


class Artifact(BaseModel):
    """A file under the data root: relative path, sha256, size."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    path: str = Field(description="Path relative to the data root (POSIX separators).")
    sha256: str
    bytes: int


class Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    TOPIC: ClassVar[str]
    KEY_FIELDS: ClassVar[tuple[str, ...]]
    SCHEMA_VERSION: ClassVar[int] = 1

    schema_version: int = 1
    id: str = ""
    created_at: datetime = Field(default_factory=utcnow)

    @model_validator(mode="after")
    def _derive_id(self) -> Self:
        if not self.id:
            parts = [self.TOPIC, *(str(getattr(self, f)) for f in self.KEY_FIELDS)]
            digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]
            object.__setattr__(self, "id", digest)
        if self.schema_version > self.SCHEMA_VERSION:
            raise ValueError(
                f"schema_version {self.schema_version} is newer than this code "
                f"({self.SCHEMA_VERSION}); upgrade this worker"
            )
        return self

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_json(cls, payload: bytes | str) -> Self:
        return cls.model_validate_json(payload)


# --- papers -------------------------------------------------------------------------------


class PaperFetched(Message):
    """A paper (or a new version of one) whose PDF is on disk."""

    TOPIC = "papers/fetched"
    KEY_FIELDS = ("arxiv_id", "version", "pdf")

    arxiv_id: str = Field(description="Versionless id, e.g. 2501.10120 or astro-ph/0601001.")
    version: int = 1
    title: str
    authors: list[str]
    abstract: str
    categories: list[str] = []
    primary_category: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    licence_url: str | None = None
    announce_type: str | None = Field(None, description="new, cross, replace, ... (RSS).")
    is_revision: bool = False
    source: PaperSource = "api"
    pdf: Artifact


class PaperParsed(Message):
    """Text, sections and page images extracted from a fetched PDF."""

    TOPIC = "papers/parsed"
    KEY_FIELDS = ("arxiv_id", "version", "text")

    arxiv_id: str
    version: int = 1
    text: Artifact | None = Field(None, description="Clean text; None when no text layer.")
    sections: list[str] = Field(default_factory=list, description="Section titles in order.")
    pages: int
    page_images: list[Artifact]
    title_card: Artifact
    has_text_layer: bool = True


class PaperSummarized(Message):
    TOPIC = "papers/summarized"
    KEY_FIELDS = ("arxiv_id", "version", "summary")

    arxiv_id: str
    version: int = 1
    summary: Artifact = Field(description="JSON: hook, short, deep, key_points, grounding.")
    hook: str
    grounding_rate: float


class PaperEmbedded(Message):
    TOPIC = "papers/embedded"
    KEY_FIELDS = ("arxiv_id", "version")

    arxiv_id: str
    version: int = 1
    novelty: float | None = Field(None, description="Distance to the nearest earlier paper.")
    related: list[str] = []


# --- shows --------------------------------------------------------------------------------

ShowKind = Literal["daily", "weekly", "latest", "deep_dive", "news"]


class ShowRequested(Message):
    TOPIC = "shows/requested"
    KEY_FIELDS = ("show_id",)

    show_id: str = Field(description="Stable id, e.g. daily-2026-11-21.")
    kind: ShowKind
    date: str = Field(description="The day (YYYY-MM-DD) the show covers.")
    categories: list[str] = []
    length_s: int
    schedule_id: int | None = None
    paper_ids: list[str] = Field(default_factory=list, description="Explicit papers, if any.")
    filler: bool = Field(False, description="Asked by the scheduler to fill the air between "
                         "shows: it yields to scheduled and operator-requested shows.")


class ShowWritten(Message):
    TOPIC = "shows/written"
    KEY_FIELDS = ("show_id", "script")

    show_id: str
    kind: ShowKind
    title: str
    script: Artifact
    lines: int
    estimated_s: float
    paper_ids: list[str]


# --- audio --------------------------------------------------------------------------------


class SegmentVoiced(Message):
    """One voiced line of a show, in order; `last` marks the end of the show."""

    TOPIC = "audio/voiced"
    KEY_FIELDS = ("show_id", "seq")

    show_id: str
    seq: int
    total: int
    audio: Artifact
    duration_s: float
    speaker: str
    text: str
    paper_id: str | None = None
    section: str | None = None
    page: int | None = None
    last: bool = False


class EpisodeRecorded(Message):
    TOPIC = "episodes/recorded"
    KEY_FIELDS = ("show_id", "mp3")

    show_id: str
    title: str
    mp3: Artifact
    transcript: Artifact
    chapters: Artifact
    duration_s: float
    loudness_lufs: float


# --- state (retained) ---------------------------------------------------------------------


class OnAirNow(Message):
    TOPIC = "onair/now"
    KEY_FIELDS = ("show_id", "seq", "started_at")

    mode: AirMode
    show_id: str | None = None
    show_title: str | None = None
    seq: int | None = None
    speaker: str | None = None
    text: str = ""
    paper_id: str | None = None
    title: str | None = None
    authors: list[str] = []
    image: str | None = Field(None, description="Page image or title card, under the data root.")
    started_at: datetime = Field(default_factory=utcnow)
    duration_s: float = 0.0


class WorkerStatus(Message):
    TOPIC = "status/{worker}"
    KEY_FIELDS = ("worker", "instance", "updated_at")

    worker: str
    instance: str
    state: WorkerState
    version: str
    backlog: int = 0
    handled: int = 0
    failed: int = 0
    last_error: str | None = None
    detail: dict[str, Any] = {}
    updated_at: datetime = Field(default_factory=utcnow)


class ScheduleEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: int
    kind: ShowKind
    at: str = Field(description="HH:MM local time.")
    days: list[str]
    tz: str
    categories: list[str] = []
    length_s: int
    paused: bool = False
    next_run: datetime | None = None


class ScheduleChanged(Message):
    """The current schedule (retained); the scheduler reloads on every change."""

    TOPIC = "schedule"
    KEY_FIELDS = ("entries", "updated_at")

    entries: list[ScheduleEntry]
    updated_at: datetime = Field(default_factory=utcnow)


class Command(Message):
    """An operator's command to a worker: skip, requeue, stream start/stop, ..."""

    TOPIC = "commands/{worker}"
    KEY_FIELDS = ("worker", "action", "args", "created_at")

    worker: str
    action: str
    args: dict[str, str] = {}


class WorkWanted(Message):
    """A consumer has (re)subscribed to a work topic: its producers announce again what they
    made that this consumer has not received (radio/recovery.py)."""

    TOPIC = "wanted/{topic}"
    KEY_FIELDS = ("worker", "instance", "topic", "created_at")

    worker: str
    instance: str
    topic: str = Field(description="The work topic, relative to the prefix.")


class QueryHit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    arxiv_id: str
    score: float
    title: str = ""


class QueryReply(Message):
    """A worker's answer to a query command (the embeddings worker's `search` and `related`),
    on a topic the asker named (`args.reply_to`): the CLI asks the running station instead of
    loading the embedding model for every call."""

    TOPIC = "replies/{token}"
    KEY_FIELDS = ("token", "created_at")

    token: str
    hits: list[QueryHit] = []
    novelty: float | None = None
    error: str | None = None


class ErrorReport(Message):
    TOPIC = "errors"
    KEY_FIELDS = ("worker", "topic", "key", "reason", "created_at")

    worker: str
    topic: str
    key: str | None = Field(None, description="Key of the item (message id, arXiv id, ...).")
    reason: str
    detail: str = ""


WORK_TOPICS: tuple[type[Message], ...] = (
    PaperFetched, PaperParsed, PaperSummarized, PaperEmbedded,
    ShowRequested, ShowWritten, SegmentVoiced, EpisodeRecorded,
)
ALL_MESSAGES: tuple[type[Message], ...] = (
    *WORK_TOPICS, OnAirNow, WorkerStatus, ScheduleChanged, Command, ErrorReport,
    WorkWanted,
)


def topic_of(model: type[Message], **names: str) -> str:
    """The topic of a model relative to the prefix, with `{worker}` filled in."""
    return model.TOPIC.format(**names) if names else model.TOPIC


AnyMessage = TypeVar("AnyMessage", bound=Message)


def parse(model: type[AnyMessage], payload: bytes) -> AnyMessage:
    """Decode a payload; raises ValueError with a readable reason."""
    try:
        return model.from_json(payload)
    except ValidationError as exc:
        raise ValueError(f"invalid {model.__name__}: {exc.errors(include_url=False)}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"undecodable payload: {exc}") from exc
