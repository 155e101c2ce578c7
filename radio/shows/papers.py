"""The papers a show can cover: paper versions as the shows see them, from the store.

`select_papers` takes the papers a `ShowRequested` covers (before ranking) and raises
`NoPapers` when its window holds none.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from radio.config import Settings
from radio.messages import ShowRequested
from radio.shows.script import PaperRef
from radio.store import Store
from radio.understanding.facts import FactSheet


class NoPapers(ValueError):
    """The show's window holds no papers: there is nothing to put on air."""


@dataclass
class Paper:
    """A paper version as the shows see it."""

    arxiv_id: str
    version: int
    title: str
    authors: list[str]
    abstract: str
    categories: list[str]
    primary_category: str | None
    fetched_at: datetime
    summary: dict | None = None  # {hook, short, deep: {...}, key_points}
    facts: FactSheet | None = None  # the summarizer's checked facts, the shows' material
    earlier: dict | None = None  # the summary of an earlier aired version, for revisions
    aired_before: bool = False
    score: float = 0.0
    related: list[str] = field(default_factory=list)

    @property
    def is_revision(self) -> bool:
        return self.version > 1 and self.aired_before

    def ref(self) -> PaperRef:
        return PaperRef(arxiv_id=self.arxiv_id, version=self.version, title=self.title,
                        score=round(self.score, 4))


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


_SMALL_WORDS = frozenset(["a", "an", "and", "as", "at", "by", "for", "from", "in", "into",
                         "of", "on", "or", "the", "to", "via", "with"])


def spoken_title(title: str) -> str:
    """One line; a title in capitals gets ordinary case, so voices do not spell it out,
    but its acronyms (LLM, RAG, GPT) stay as written."""
    title = " ".join(title.split())
    if sum(c.isupper() for c in title) > 0.6 * sum(c.isalpha() for c in title):
        title = " ".join(_title_word(w) for w in title.split())
    return title


def _title_word(word: str) -> str:
    letters = word.strip(":,.;!?()")
    if len(letters) <= 4 and letters.isupper() and letters.lower() not in _SMALL_WORDS:
        return word  # an acronym: said letter by letter, as the paper means it
    return word.capitalize() if word.isalpha() or word[:-1].isalpha() else word


def summary_of(store: Store, arxiv_id: str, version: int | None = None) -> dict | None:
    """The stored summary (the newest at or below `version`), in the summarizer's shape."""
    row = store.summary(arxiv_id, version or None)
    if row is None:
        return None
    record = json.loads(row["data"])
    data = record.get("summary", record)  # a SummaryRecord or a bare Summary
    if not isinstance(data, dict) or not data.get("short"):
        return None
    deep = data.get("deep")
    if not isinstance(deep, dict):
        deep = {}
    return {"hook": str(data.get("hook", "")), "short": str(data["short"]),
            "deep": {k: str(deep.get(k, "")) for k in ("problem", "method", "results", "limits")},
            "key_points": [str(p) for p in data.get("key_points", []) if p],
            "version": row["version"], "facts": record.get("facts")}


def load_papers(store: Store, *, since: datetime | None = None, until: datetime | None = None,
                arxiv_ids: list[str] | None = None,
                categories: list[str] | None = None) -> list[Paper]:
    """Paper versions that arrived in [since, until), newest version of each paper."""
    rows = store.paper_versions()
    wanted = set(arxiv_ids or [])
    found: dict[str, Paper] = {}
    for row in rows:
        fetched = _parse_time(row["fetched_at"]) or datetime.now(UTC)
        if wanted and row["arxiv_id"] not in wanted:
            continue
        if (since and fetched < since) or (until and fetched >= until):
            continue
        cats = json.loads(row["categories"])
        if categories and not set(cats) & set(categories):
            continue
        found[row["arxiv_id"]] = Paper(
            arxiv_id=row["arxiv_id"], version=row["version"], title=spoken_title(row["title"]),
            authors=json.loads(row["authors"]), abstract=" ".join(row["abstract"].split()),
            categories=cats, primary_category=row["primary_category"], fetched_at=fetched)
    for paper in found.values():
        _attach_history(store, paper)
    return list(found.values())


def _attach_history(store: Store, paper: Paper) -> None:
    paper.summary = summary_of(store, paper.arxiv_id, paper.version)
    facts = (paper.summary or {}).pop("facts", None)
    paper.facts = FactSheet.model_validate(facts) if facts else None
    aired = store.aired_version_below(paper.arxiv_id, paper.version)
    if aired:
        paper.aired_before = True
        paper.earlier = summary_of(store, paper.arxiv_id, aired)


def aired_ids(store: Store, modes: tuple[str, ...] | None = None) -> set[str]:
    return store.covered_ids(modes)


def day_window(day: date, tz: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(0), zone)
    end = datetime.combine(day + timedelta(days=1), time(0), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def select_papers(store: Store, request: ShowRequested, settings: Settings) -> list[Paper]:
    """The papers a request covers, before ranking; raises NoPapers when there are none.

    A paper the operator ingested by hand (`radio ingest`, the fetcher's `fetch` command:
    `papers.by_hand`) is taken whatever its categories.
    """
    categories = request.categories or settings.categories
    day = date.fromisoformat(request.date)
    tz = settings.scheduler.timezone
    by_hand = store.by_hand_ids()

    def wanted(paper: Paper) -> bool:
        return (not categories or paper.arxiv_id in by_hand
                or bool(set(paper.categories) & set(categories)))

    if request.paper_ids:
        papers = load_papers(store, arxiv_ids=request.paper_ids)
    elif request.kind == "daily":
        since, until = day_window(day, tz)
        papers = [p for p in load_papers(store, since=since, until=until) if wanted(p)]
    elif request.kind == "weekly":
        since, until = day_window(day - timedelta(days=6), tz)[0], day_window(day, tz)[1]
        papers = [p for p in load_papers(store, since=since, until=until) if wanted(p)]
    else:  # latest and deep dives: what no show has covered in that way yet
        until = day_window(day, tz)[1]
        skip = aired_ids(store, ("discussion",) if request.kind == "deep_dive" else None)
        papers = [p for p in load_papers(store, until=until)
                  if wanted(p) and p.arxiv_id not in skip]
    if not papers:
        raise NoPapers(f"no papers for {request.kind} show {request.show_id} "
                       f"(date {request.date}, categories {', '.join(categories)})")
    return papers
