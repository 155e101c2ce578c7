"""Ranking a show's papers: interest profile, novelty and cross-listing; themes and links.

Embeddings are used when an index is loaded; without one, interest is lexical and themes
are the papers' primary categories.
"""

from __future__ import annotations

import logging
import re

from radio.config import Settings
from radio.shows.papers import Paper

log = logging.getLogger(__name__)


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
