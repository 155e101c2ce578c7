"""Which papers the schedule will put on air soon: the summarizer spends the LLM on them first.

Air-bound are the papers a show will discuss: those of every show requested and not yet
written (breaking news, operator and scheduled shows, the scheduler's filler), and those of
every scheduled show due within `lookahead` (today's daily, this week's weekly), each show's
top `writer.discussion_count` by rank (explicit papers: all of them). Ranking here is the
words-and-novelty ranking without the embeddings index, so it costs no model; the writer's
own ranking may differ at the margin, and a paper it needs that has no fact sheet yet still
gets one made on demand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from radio.config import Settings
from radio.messages import ShowRequested
from radio.shows.papers import NoPapers, select_papers
from radio.shows.ranking import Ranker
from radio.shows.schedule import last_run, load_entries, next_run, show_request
from radio.store import Store

LOOKAHEAD = timedelta(hours=24)


def pending_requests(store: Store) -> list[ShowRequested]:
    """Shows requested and not yet written (unreadable rows are skipped)."""
    out = []
    for raw in store.show_requests(("requested",)):
        try:
            out.append(ShowRequested.model_validate_json(raw))
        except ValueError:
            continue
    return out


def explicit_ids(store: Store) -> set[str]:
    """The papers pending requests name (breaking news, deep dives): a cheap check."""
    return {a for r in pending_requests(store) for a in r.paper_ids}


def upcoming_requests(store: Store, now: datetime, lookahead: timedelta = LOOKAHEAD
                      ) -> list[ShowRequested]:
    """The requests the schedule will make within `lookahead`."""
    out = []
    for entry in load_entries(store, now):
        if entry.paused:
            continue
        due = next_run(entry, last_run(store, entry.id) or now)
        if due - now <= lookahead:
            out.append(show_request(entry, max(due, now)))
    return out


def discussed(store: Store, settings: Settings, request: ShowRequested) -> list[str]:
    """The papers a show will discuss at length (explicit ones: all)."""
    if request.paper_ids:
        return list(request.paper_ids)
    try:
        papers = select_papers(store, request, settings)
    except NoPapers:
        return []
    ranked = Ranker(settings).rank(papers, request.categories or settings.categories)
    return [p.arxiv_id for p in ranked[:settings.writer.discussion_count]]


def air_bound(store: Store, settings: Settings, now: datetime | None = None) -> set[str]:
    now = now or datetime.now(UTC)
    requests = [*pending_requests(store), *upcoming_requests(store, now)]
    return {a for request in requests for a in discussed(store, settings, request)}
