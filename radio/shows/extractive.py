"""The fallback when the LLM fails: segments made of the paper's own sentences.

Plain on purpose: the paper's summary, abstract and retrieved passages, sentence by sentence,
shared between the slot's speakers until the time budget is filled. Nothing is invented,
so the show completes even with the LLM server down.
"""

from __future__ import annotations

import re

from radio.shows.checks import fingerprint
from radio.shows.programme import Paper
from radio.shows.script import Line, Slot, count_words
from radio.understanding.grounding import normalise

_CITATION = re.compile(r"\s*\[[\d,\s–-]+\]|\s*\([A-Z][A-Za-z-]+ et al\.,? \d{4}\w?\)")
_UNSPEAKABLE = re.compile(r"https?://|www\.|[<>{}\[\]\\$#|`~^@]|\*\*|__")


def speakable(sentences: list[str], seen: set[str]) -> list[str]:
    """Sentences a voice can read: citations dropped, no markup, none twice."""
    out: list[str] = []
    marks = set(seen)
    for sentence in sentences:
        text = normalise(_CITATION.sub("", sentence)).strip()
        mark = fingerprint(text)
        if not 4 <= len(text.split()) <= 60 or _UNSPEAKABLE.search(text) or mark in marks \
                or any(mark in line for line in seen):  # said earlier in the show
            continue
        marks.add(mark)
        out.append(text if text[-1] in ".!?" else text + ".")
    return out


def opening(slot: Slot, paper: Paper | None) -> str:
    if paper is None:
        return f"This week's theme: {slot.focus or slot.title}."
    if slot.kind == "revision":
        return f"There is a new version, version {paper.version}, of {paper.title}."
    if slot.kind == "discussion" and slot.part > 1:
        return ""
    return f"{paper.title}."


def paper_lines(slot: Slot, plan: list, pool: list[str], paper: Paper | None,
                budget_words: float,
                tolerance: float, seen: set[str]) -> list[Line]:
    """Lines of the paper's own sentences, in the plan's speaker order, filling the budget."""
    texts: list[list[str]] = [[] for _ in plan]
    first = opening(slot, paper)
    if first:
        texts[0].append(first)
    total = count_words(first)
    per_line = budget_words / len(plan)
    index = 0
    for sentence in speakable(pool, seen):
        words = count_words(sentence)
        if total + words > budget_words * (1 + tolerance / 2):
            continue  # too long for what is left: a shorter one may fit
        if texts[index] and count_words(" ".join(texts[index])) >= per_line * 0.9 \
                and index < len(plan) - 1:
            index += 1
        texts[index].append(sentence)
        total += words
        if total >= budget_words:
            break
    return [Line(speaker=plan[n].speaker, text=" ".join(parts),
                 paper_id=paper.arxiv_id if paper else None)
            for n, parts in enumerate(texts) if parts]


def template_lines(slot: Slot, plan: list, context: dict, station: str) -> list[Line]:
    """Fixed sentences for the parts of a show that are not about one paper."""
    lead = plan[0].speaker
    other = plan[0].to
    items = context.get("rundown") or []
    title = context.get("title", "")
    if slot.kind == "intro":
        texts = [f"Welcome to {title} on {station}. I'm {lead}, and with me is {other}.",
                 f"Hello everyone. We have {context.get('paper_count', 0)} papers today"
                 + (f", starting with {items[0]}." if items else ".")]
        speakers = [lead, other]
    elif slot.kind == "outro":
        lead, other = plan[-1].speaker, plan[0].speaker
        texts = [f"That was {title}."
                 + (f" We talked about {' and '.join(items[:2])}." if items else ""),
                 f"Thank you for listening to {station}. Goodbye from {other} and me, {lead}."]
        speakers = [other, lead]
    else:
        texts = [f"Next: {context.get('next', slot.title)}."]
        speakers = [lead]
    return [Line(speaker=s, text=t) for s, t in zip(speakers, texts, strict=True)]
