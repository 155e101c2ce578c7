"""Real corpus papers as the understanding, search and web tests use them."""

from __future__ import annotations

from dataclasses import dataclass

from radio.store import Operations, Store

RAG_SURVEY = "2312.10997"
VISION = {"1804.07821", "1912.10667", "2203.06947", "2103.15348"}  # cs.CV in the manifest


@dataclass(frozen=True)
class CorpusPaper:
    arxiv_id: str
    version: int
    title: str
    abstract: str
    text: str
    sections: dict
    published: str  # the first day of the id's month: the corpus has no dates for most

    def store_in(self, store: Operations) -> None:
        store.upsert_paper(self.arxiv_id, self.version, title=self.title, authors=[],
                           abstract=self.abstract, categories=[], published=self.published,
                           source="local")


def abstract_of(sections: dict, text: str) -> str:
    for section in sections["sections"]:
        if section["kind"] == "abstract":
            return " ".join(p["text"] for p in section["paragraphs"])
    return " ".join(text.split()[:150])


def insert_papers(store: Store, papers: list[CorpusPaper]) -> None:
    with store.transaction() as t:
        for paper in papers:
            paper.store_in(t)
