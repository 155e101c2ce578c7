"""Programming: which papers a show covers, in what order, and for how long.

- daily: every paper version that reached the station on the day (in the show's time zone)
  in the show's categories, ranked; the top `discussion_count` get a real discussion, the
  rest a headline whose length falls with rank; new versions of papers already aired get a
  short "what changed" item. When the papers do not fit the length, the lowest-ranked are
  left to the between-shows "latest" programme.
- weekly: the week's themes (clusters of the embeddings), the papers that mattered most,
  links between related papers.
- latest: papers no show has covered yet; deep_dive: one paper, at length, part by part.
- news: breaking news, one paper that appeared in the feed while the station ran, in a
  minute: a short "just in" opening, the paper, a one-line close (the playout airs it at the
  next line boundary, the tts puts a sting before it).

Everything is planned in seconds of airtime; the writer turns seconds into words.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from radio.config import Settings
from radio.messages import ShowRequested
from radio.shows.script import PaperRef, Rundown, Slot
from radio.store import Store
from radio.understanding.facts import FactSheet

log = logging.getLogger(__name__)

TRANSITION_S = 7.0
REVISION_S = 12.0
HEADLINE_MAX_S, HEADLINE_MIN_S = 22.0, 10.0
DISCUSSION_MIN_S = 45.0
PART_MAX_S = 80.0  # a longer discussion is written in parts: small models repeat themselves
DEEP_DIVE_FOCUS = ["the problem and the main idea", "how the method works",
                   "the evidence and the results", "the limits and what comes next"]


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


# --- reading the store ---------------------------------------------------------------------


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


# --- ranking -------------------------------------------------------------------------------


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z][a-z0-9-]{2,}", text.lower())}


def lexical_interest(paper: Paper, interests: list[str]) -> float:
    """Best share of an interest's words found in the title and abstract (no embedder)."""
    words = _words(f"{paper.title} {paper.abstract}")
    shares = [len(_words(i) & words) / len(_words(i)) for i in interests if _words(i)]
    return max(shares, default=0.0)


class Ranker:
    """Interest profile, novelty and cross-listing; embeddings when an index is there."""

    def __init__(self, settings: Settings, library: object | None = None) -> None:
        self.settings = settings
        self.library = library  # radio.understanding.index.Library, if loaded

    def rank(self, papers: list[Paper], categories: list[str]) -> list[Paper]:
        interest = self._interest(papers)
        for paper in papers:
            primary = 1.0 if paper.primary_category in categories else 0.4
            novelty = self._novelty(paper)
            paper.score = 0.6 * interest.get(paper.arxiv_id, 0.0) + 0.25 * novelty \
                + 0.15 * primary
        return sorted(papers, key=lambda p: (-p.score, p.arxiv_id))

    def _interest(self, papers: list[Paper]) -> dict[str, float]:
        interests = self.settings.embedder.interests
        if self.library is not None:
            try:
                vectors = self.library.embedder.embed(list(interests))  # type: ignore[attr-defined]
                hits = self.library.index.rank([p.arxiv_id for p in papers], vectors)  # type: ignore[attr-defined]
                if hits:
                    return {h.arxiv_id: max(h.score, 0.0) for h in hits}
            except Exception as exc:  # the index is an aid: rank without it
                log.warning("ranking without embeddings: %s", exc)
        return {p.arxiv_id: lexical_interest(p, interests) for p in papers}

    def _novelty(self, paper: Paper) -> float:
        if self.library is None:
            return 0.5
        try:
            value = self.library.novelty(paper.arxiv_id)  # type: ignore[attr-defined]
        except Exception:
            return 0.5
        return 0.5 if value is None else min(max(value, 0.0), 1.0)

    def related(self, papers: list[Paper]) -> list[tuple[Paper, Paper]]:
        """Pairs of this set's papers that are close in the embeddings (weekly links)."""
        if self.library is None:
            return []
        by_id = {p.arxiv_id: p for p in papers}
        pairs: dict[frozenset[str], tuple[Paper, Paper]] = {}
        for paper in papers:
            try:
                hits = self.library.index.search(  # type: ignore[attr-defined]
                    self.library.index.vector(paper.arxiv_id), 2,  # type: ignore[attr-defined]
                    among=list(by_id), exclude=[paper.arxiv_id])
            except Exception:
                continue
            for hit in hits:
                if hit.score > 0.5:
                    pairs.setdefault(frozenset((paper.arxiv_id, hit.arxiv_id)),
                                     (paper, by_id[hit.arxiv_id]))
        return list(pairs.values())

    def themes(self, papers: list[Paper]) -> list[tuple[str, list[Paper]]]:
        """Clusters of the week with labels; by primary category without an index."""
        by_id = {p.arxiv_id: p for p in papers}
        if self.library is not None:
            try:
                texts = {p.arxiv_id: f"{p.title}. {p.abstract}" for p in papers}
                clusters = self.library.index.clusters(list(by_id), texts)  # type: ignore[attr-defined]
                return [(c.label, [by_id[a] for a in c.arxiv_ids]) for c in clusters]
            except Exception as exc:
                log.warning("themes without embeddings: %s", exc)
        groups: dict[str, list[Paper]] = {}
        for paper in papers:
            groups.setdefault(paper.primary_category or "other", []).append(paper)
        return sorted(groups.items(), key=lambda item: -len(item[1]))


# --- rundowns ------------------------------------------------------------------------------


def show_title(request: ShowRequested) -> str:
    day = date.fromisoformat(request.date)
    names = {"daily": "The Daily Papers", "weekly": "The Week in Papers",
             "latest": "Latest Papers", "deep_dive": "Deep Dive", "news": "Just In"}
    return f"{names[request.kind]}, {day:%A} {day.day} {day:%B %Y}"


def _bookends(length_s: float) -> tuple[float, float]:
    """Intro and outro: long enough to greet, name the show and the hosts, not more."""
    return min(max(0.05 * length_s, 20.0), 40.0), min(max(0.04 * length_s, 14.0), 30.0)


def _discussion_slots(paper: Paper, budget_s: float, *, parts_focus: list[str] | None = None,
                      ) -> list[Slot]:
    """One discussion, cut into parts of at most PART_MAX_S (continuing the dialogue)."""
    parts = max(1, round(budget_s / PART_MAX_S + 0.49))
    if parts_focus:
        parts = min(len(parts_focus), max(parts, 2))
    slots = []
    for n in range(parts):
        slots.append(Slot(kind="discussion", title=paper.title, papers=[paper.ref()],
                          budget_s=budget_s / parts, part=n + 1, parts=parts,
                          focus=parts_focus[n] if parts_focus else None))
    return slots


def _headline_budgets(count: int, available_s: float) -> list[float]:
    """Falling with rank from HEADLINE_MAX_S; squeezed to fit, never below HEADLINE_MIN_S."""
    if count == 0:
        return []
    step = (HEADLINE_MAX_S - HEADLINE_MIN_S) / max(count, 4)
    budgets = [HEADLINE_MAX_S - step * i for i in range(count)]
    scale = min(1.0, available_s / sum(budgets))
    return [max(b * scale, HEADLINE_MIN_S) for b in budgets]


def _with_transitions(slots: list[Slot]) -> list[Slot]:
    """A transition before each new discussion or theme, and where the kind of item changes."""
    out: list[Slot] = []
    for slot in slots:
        prev = out[-1] if out else None
        continues = (prev is not None and prev.kind == slot.kind == "discussion"
                     and prev.paper_ids == slot.paper_ids)
        if (prev and prev.kind != "intro" and slot.kind != "outro" and not continues
                and (slot.kind in ("discussion", "theme") or slot.kind != prev.kind)):
            out.append(Slot(kind="transition", title=f"to: {slot.title}",
                            budget_s=TRANSITION_S, focus=prev.title))
        out.append(slot)
    return out


def _fit(slots: list[Slot], length_s: float) -> list[Slot]:
    """Scale the flexible items so that the rundown adds up to the show's length exactly."""
    flexible = [s for s in slots if s.kind in ("discussion", "theme")] or \
        [s for s in slots if s.kind in ("headline", "revision")]
    fixed = sum(s.budget_s for s in slots if s not in flexible)
    total = sum(s.budget_s for s in flexible)
    if total > 0 and length_s > fixed:
        for slot in flexible:
            slot.budget_s = round(slot.budget_s * (length_s - fixed) / total, 1)
    return slots


def plan_daily(request: ShowRequested, papers: list[Paper], settings: Settings,
               title: str) -> Rundown:
    length = float(request.length_s)
    intro_s, outro_s = _bookends(length)
    revisions = [p for p in papers if p.is_revision]
    fresh = [p for p in papers if not p.is_revision]
    k = min(settings.writer.discussion_count, len(fresh))
    while True:
        n_head = len(fresh) - k
        transitions = max(k - 1, 0) + (1 if n_head else 0) + (1 if revisions else 0)
        body = length - intro_s - outro_s - TRANSITION_S * transitions \
            - REVISION_S * len(revisions)
        # Headlines take at most half the body, so the top papers keep a real discussion;
        # papers that do not fit even as the shortest headline wait for a "latest" show.
        weights = [2 * k - i for i in range(k)]  # the top paper: twice the k-th's airtime
        least = DISCUSSION_MIN_S * sum(weights) / (k + 1)  # the k-th still gets the minimum
        room = min(body - least, 0.5 * body) if k else body
        headlines = _headline_budgets(min(n_head, int(max(room, 0) // HEADLINE_MIN_S)), room)
        rest = body - sum(headlines)
        if k == 0 or rest >= least:
            break
        k -= 1
    if len(fresh) > k + len(headlines):
        log.info("%s: %d papers do not fit; left to the latest shows", request.show_id,
                 len(fresh) - k - len(headlines))
    slots = [Slot(kind="intro", title=title, budget_s=intro_s,
                  papers=[p.ref() for p in fresh[:2]])]
    for paper, weight in zip(fresh[:k], weights, strict=True):
        slots += _discussion_slots(paper, max(rest, 0.0) * weight / sum(weights))
    for paper, budget in zip(fresh[k:], headlines, strict=False):
        slots.append(Slot(kind="headline", title=paper.title, papers=[paper.ref()],
                          budget_s=budget))
    for paper in revisions:
        slots.append(Slot(kind="revision", title=paper.title, papers=[paper.ref()],
                          budget_s=REVISION_S))
    slots.append(Slot(kind="outro", title=title, budget_s=outro_s,
                      papers=[p.ref() for p in fresh[:k]]))
    return Rundown(show_id=request.show_id, kind=request.kind, title=title, date=request.date,
                   length_s=request.length_s, slots=_fit(_with_transitions(slots), length))


def plan_weekly(request: ShowRequested, papers: list[Paper], themes: list[tuple[str, list[Paper]]],
                settings: Settings, title: str) -> Rundown:
    length = float(request.length_s)
    intro_s, outro_s = _bookends(length)
    themes = [(label, members) for label, members in themes if len(members) >= 2][:3]
    top = papers[:min(settings.writer.discussion_count, len(papers))]
    items = len(themes) + len(top)
    body = length - intro_s - outro_s - TRANSITION_S * max(items, 1)
    theme_s = body * 0.45 / len(themes) if themes else 0.0
    top_s = (body - theme_s * len(themes)) / len(top) if top else 0.0
    slots = [Slot(kind="intro", title=title, budget_s=intro_s,
                  papers=[p.ref() for p in papers[:2]])]
    for label, members in themes:
        slots.append(Slot(kind="theme", title=f"Theme: {label}", budget_s=theme_s, focus=label,
                          papers=[p.ref() for p in members[:5]]))
    for paper in top:
        slots += _discussion_slots(paper, top_s)
    slots.append(Slot(kind="outro", title=title, budget_s=outro_s,
                      papers=[p.ref() for p in top]))
    return Rundown(show_id=request.show_id, kind=request.kind, title=title, date=request.date,
                   length_s=request.length_s, slots=_fit(_with_transitions(slots), length))


def plan_deep_dive(request: ShowRequested, paper: Paper, title: str) -> Rundown:
    length = float(request.length_s)
    intro_s, outro_s = _bookends(length)
    body = length - intro_s - outro_s
    slots = [Slot(kind="intro", title=title, budget_s=intro_s, papers=[paper.ref()])]
    slots += _discussion_slots(paper, body, parts_focus=DEEP_DIVE_FOCUS)
    slots.append(Slot(kind="outro", title=title, budget_s=outro_s, papers=[paper.ref()]))
    return Rundown(show_id=request.show_id, kind=request.kind, title=f"{title}: {paper.title}",
                   date=request.date, length_s=request.length_s, slots=_fit(slots, length))


NEWS_LENGTH_S = 60


def news_request(arxiv_id: str, now: datetime, tz: str) -> ShowRequested:
    """Breaking news about one paper; one per paper (a stable id)."""
    day = now.astimezone(ZoneInfo(tz)).date().isoformat()
    return ShowRequested(show_id=f"news-{arxiv_id.replace('/', '-').lower()}", kind="news",
                         date=day, length_s=NEWS_LENGTH_S, paper_ids=[arxiv_id])


def plan_news(request: ShowRequested, paper: Paper, title: str) -> Rundown:
    """Breaking news: a few seconds of opening and close around one paper."""
    length = float(request.length_s)
    intro_s, outro_s = min(12.0, 0.2 * length), min(8.0, 0.15 * length)
    slots = [Slot(kind="intro", title=title, budget_s=intro_s, papers=[paper.ref()]),
             Slot(kind="discussion", title=paper.title, papers=[paper.ref()],
                  budget_s=length - intro_s - outro_s),
             Slot(kind="outro", title=title, budget_s=outro_s, papers=[paper.ref()])]
    return Rundown(show_id=request.show_id, kind=request.kind, title=f"{title}: {paper.title}",
                   date=request.date, length_s=request.length_s, slots=slots)


# --- from a request to a rundown ------------------------------------------------------------


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


def plan_show(store: Store, request: ShowRequested, settings: Settings,
              ranker: Ranker) -> tuple[Rundown, dict[str, Paper]]:
    """The rundown of a requested show, and its papers by id."""
    categories = request.categories or settings.categories
    papers = ranker.rank(select_papers(store, request, settings), categories)
    title = show_title(request)
    if request.kind in ("daily", "latest"):  # latest: a daily of what has not aired yet
        rundown = plan_daily(request, papers, settings, title)
    elif request.kind == "weekly":
        rundown = plan_weekly(request, papers, ranker.themes(papers), settings, title)
        for a, b in ranker.related(papers):
            a.related.append(b.arxiv_id)
    elif request.kind == "news":
        rundown = plan_news(request, papers[0], title)
    else:
        rundown = plan_deep_dive(request, papers[0], title)
    return rundown, {p.arxiv_id: p for p in papers}
