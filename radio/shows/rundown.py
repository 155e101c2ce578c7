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

import logging
from datetime import date, datetime
from zoneinfo import ZoneInfo

from radio.config import Settings
from radio.messages import ShowRequested
from radio.shows.papers import Paper, select_papers
from radio.shows.ranking import Ranker
from radio.shows.script import Rundown, Slot
from radio.store import Store

log = logging.getLogger(__name__)

TRANSITION_S = 7.0
REVISION_S = 12.0
HEADLINE_MAX_S, HEADLINE_MIN_S = 22.0, 10.0
DISCUSSION_MIN_S = 45.0
PART_MAX_S = 80.0  # a longer discussion is written in parts: small models repeat themselves
DEEP_DIVE_FOCUS = ["the problem and the main idea", "how the method works",
                   "the evidence and the results", "the limits and what comes next"]


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
