"""A paper's text cut into passages for retrieval, and the retrieval itself.

The pdf worker writes text.txt (references removed, paragraphs separated by a blank line)
and sections.json (`radio.sections/1`, see radio/ingest/pdf_parse.py): chunks never cross a
section and carry its kind (introduction, method, experiments, ...). Without sections.json
the text is cut by paragraphs alone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from radio.artifacts import atomic_path, write_atomic
from radio.backends.embedder import Embedder

# Parts of a paper that say nothing a listener needs.
SKIPPED_KINDS = frozenset({"front", "keywords", "acknowledgements", "appendix"})
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[])")
_CITATION = re.compile(r"\s*\[\d+(?:\s*[,–-]\s*\d+)*\]")
_REFERENCES = re.compile(r"\n\s*(?:\d+\.?\s*)?(?:References|REFERENCES|Bibliography)\s*\n")
_HYPHEN_BREAK = re.compile(r"(\w)-\n(\w)")


@dataclass(frozen=True)
class Chunk:
    index: int
    text: str
    section: str | None = None
    kind: str | None = None
    page: int | None = None  # where it starts, so a line about it can show that page


# Sentences that talk to a language model rather than to a reader: a paper is data, and
# these never reach the prompt (the <paper> delimiters and escaping are the other guard).
_ADDRESSES_MODEL = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,60}\b(?:instructions?|prompts?|rules|"
    r"directions|guidelines|everything)\b|\b(?:system prompt|jailbreak)\b|"
    r"\byou (?:are|must|should|will) (?:now )?(?:an? )?(?:ai|assistant|language model|llm|"
    r"chatbot|summari[sz]er)\b|\b(?:assistant|system|user)\s*:|<\|im_(?:start|end)\|>",
    re.I)


def addresses_model(sentence: str) -> bool:
    return bool(_ADDRESSES_MODEL.search(sentence))


def clean(text: str) -> str:
    """Plain prose on one line: no numeric citations, no line-break hyphens, and no
    sentences that address a language model."""
    text = " ".join(_CITATION.sub("", _HYPHEN_BREAK.sub(r"\1\2", text)).split())
    return " ".join(s for s in sentences(text) if not addresses_model(s))


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def strip_references(text: str) -> str:
    """Text up to the last "References" heading in its second half (raw PDF text)."""
    matches = list(_REFERENCES.finditer(text))
    if matches and matches[-1].start() > len(text) // 2:
        return text[: matches[-1].start()]
    return text


def _pack(paragraphs: Iterable[str], max_words: int,
          pages: list[int | None] | None = None) -> list[tuple[str, int | None]]:
    """Paragraphs packed into pieces of about `max_words`, each with the page of its first
    paragraph; long ones split at sentences."""
    pieces: list[tuple[str, int | None]] = []
    words: list[str] = []
    start: int | None = None
    for n, paragraph in enumerate(paragraphs):
        for sentence in sentences(clean(paragraph)):
            if not words:
                start = pages[n] if pages else None
            words += sentence.split()
            while len(words) >= max_words:  # a table row run has no sentence end: cut it
                cut = max_words if len(words) > 2 * max_words else len(words)
                pieces.append((" ".join(words[:cut]), start))
                words = words[cut:]
                start = pages[n] if pages else None
    if words:
        if pieces and len(words) < max_words // 4:
            pieces[-1] = (pieces[-1][0] + " " + " ".join(words), pieces[-1][1])  # no tiny tail
        else:
            pieces.append((" ".join(words), start))
    return pieces


def chunks_from_sections(sections: dict, max_words: int = 160) -> list[Chunk]:
    chunks: list[Chunk] = []
    for section in sections.get("sections", []):
        if section.get("kind") in SKIPPED_KINDS:
            continue
        paragraphs = section.get("paragraphs", [])
        for piece, page in _pack([p["text"] for p in paragraphs], max_words,
                                 [p.get("page") for p in paragraphs]):
            chunks.append(Chunk(len(chunks), piece, section.get("title") or None,
                                section.get("kind"), page))
    return chunks


def chunks_from_text(text: str, max_words: int = 160) -> list[Chunk]:
    paragraphs = re.split(r"\n\s*\n", strip_references(text))
    return [Chunk(i, piece) for i, (piece, _) in enumerate(_pack(paragraphs, max_words))]


def make_chunks(text: str, sections: dict | None, max_words: int = 160) -> list[Chunk]:
    chunks = chunks_from_sections(sections, max_words) if sections else []
    return chunks or chunks_from_text(text, max_words)


# --- retrieval over one paper's chunks ---------------------------------------------------

# What each part of a summary needs to read: a query, and the section kinds that help.
ASPECTS: dict[str, tuple[str, frozenset[str]]] = {
    "problem": ("the problem this paper addresses, its motivation and challenges",
                frozenset({"introduction", "abstract"})),
    "method": ("we propose a method, approach, model architecture or system",
               frozenset({"method"})),
    "results": ("experimental results and evaluation: accuracy, improvements over baselines",
                frozenset({"experiments"})),
    "limits": ("limitations, future work, conclusion and discussion",
               frozenset({"limitations", "conclusion", "discussion"})),
}
KIND_BONUS = 0.15  # a chunk in the section made for an aspect beats a slightly closer one


def select_passages(chunks: list[Chunk], embedder: Embedder, count: int,
                    vectors: np.ndarray | None = None) -> list[Chunk]:
    """The opening of the paper plus, in turn, the best chunk for each aspect, until `count`.

    Abstract chunks are left out: the prompt carries the abstract from the metadata.
    """
    pool = [c for c in chunks if c.kind != "abstract"] or chunks
    if len(pool) <= count:
        return pool
    if vectors is None:
        vectors = embedder.embed([c.text for c in pool])
    else:
        vectors = vectors[[c.index for c in pool]]
    queries = embedder.embed([query for query, _ in ASPECTS.values()])
    ranked = []
    for query, (_, kinds) in zip(queries, ASPECTS.values(), strict=True):
        bonus = np.array([KIND_BONUS if c.kind in kinds else 0.0 for c in pool])
        ranked.append([int(i) for i in np.argsort(-(vectors @ query + bonus))])
    chosen: list[int] = [0]
    while len(chosen) < count:
        for ranking in ranked:
            best = next((i for i in ranking if i not in chosen), None)
            if best is not None and len(chosen) < count:
                chosen.append(best)
    return [pool[i] for i in sorted(chosen)]


def best_passages(chunks: list[Chunk], vectors: np.ndarray, query: np.ndarray,
                  k: int = 3) -> list[Chunk]:
    """The `k` chunks closest to a query vector, best first (for writers' grounding)."""
    order = np.argsort(-(vectors @ query))[:k]
    return [chunks[int(i)] for i in order]


# --- a paper's chunk vectors on disk (papers/<id>/v<n>/chunks.json + chunks.npy) ----------


def embed_chunks(chunks: list[Chunk], embedder: Embedder) -> np.ndarray:
    return embedder.embed([c.text for c in chunks])


def save_chunks(directory: Path, chunks: list[Chunk], vectors: np.ndarray, model: str) -> None:
    with atomic_path(directory / "chunks.npy") as tmp, tmp.open("wb") as handle:
        np.save(handle, np.asarray(vectors, dtype=np.float32))
    write_atomic(directory / "chunks.json", json.dumps(
        {"model": model, "chunks": [asdict(c) for c in chunks]}, ensure_ascii=False))


def load_chunks(directory: Path, model: str) -> tuple[list[Chunk], np.ndarray] | None:
    """The saved chunks and vectors, or None when absent, damaged or from another model."""
    try:
        meta = json.loads((directory / "chunks.json").read_text(encoding="utf-8"))
        vectors = np.load(directory / "chunks.npy")
    except (OSError, ValueError):
        return None
    chunks = [Chunk(**c) for c in meta.get("chunks", [])]
    if meta.get("model") != model or len(chunks) != len(vectors):
        return None
    return chunks, vectors
