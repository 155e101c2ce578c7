"""The fallback when the LLM fails: the hosts' dialogue composed from grounded facts.

A paper segment is built from the paper's stored summary (the summarizer's checked hook,
short summary, problem, method, results, limits and key points); an aspect the summary
leaves empty, or a paper with no summary at all, is filled from the abstract, cleaned for
speech (no captions, citations, "Figure N", URLs or LaTeX; "we" becomes "the authors").
Never from the paper's body text, which is full of captions and citation debris. The
sentences are used as they are, so their numbers stay exact; the phrasing around them (the
questions of the lead host, the lead-ins of the expert) comes from prompts/fallback_lines.j2,
picked by a stable hash so shows vary but a show written twice is the same.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from radio.shows.checks import fingerprint
from radio.shows.programme import Paper
from radio.shows.script import Line, Slot, count_words
from radio.understanding.grounding import normalise

TEMPLATE = "fallback_lines.j2"
PHRASINGS = 6  # phrasings tried for a line that must not repeat an earlier one
Say = Callable[..., str]  # renders TEMPLATE with a role and its context

# --- speakable sentences ---------------------------------------------------------------------

_SPLIT = re.compile(r"(?<=[.!?])[\"'”’)]?\s+(?=[\"“(]?[A-Z])")
_CITATION = re.compile(
    r"\s*\[[\d,\s–-]+\]|\s*\[[A-Z][^\[\]]{0,80}?\d{4}[a-z]?\]"
    r"|\s*\((?:see )?(?:[A-Z][A-Za-z'-]+(?: et al\.?| and [A-Z][A-Za-z'-]+)?,? \d{4}[a-z]?"
    r"(?:;\s*)?)+\)")
# Captions, cross-references, front matter and markup: a sentence with any of these goes.
_DEBRIS = re.compile(
    r"\b(?:fig(?:ure)?s?|tables?|sec(?:tion)?s?|eqs?|equations?|appendix|algorithm|"
    r"listing)\.?\s*\(?[0-9IVX]|https?://|www\.|@|\\[a-zA-Z]+|[$^_{}<>\[\]#|`~=]|"
    r"[\u0370-\u03ff\u2200-\u22ff]|"
    r"\b(?:corresponding author|equal contribution|preprint|work (?:was )?done|"
    r"code (?:is )?(?:publicly )?available|github|copyright|licen[cs]e)\b|"
    r"(?:^|\s)(?:left|right|middle|top|bottom|above|below)\s*:", re.I)
# A figure's speech bubbles and labelled parts: 'Player: "I bluff with a weak hand."'
_LABEL = re.compile(r"^[A-Z][\w-]*(?: [A-Z][\w-]*)?:\s")
# What a removed citation leaves behind: "proposed by, in which", "see ()".
_DANGLING = re.compile(r"\b(?:by|in|of|see|from|and|with|to|as|than|like)\s*[,.;:)]|\(\s*\)"
                       r"|\s[,;]\s*[,;.]|[a-z]\.\s+[a-z]")  # "... clarity. of regression"
_ABBREVIATIONS = [(re.compile(r"\be\.g\.,?", re.I), "for example"),
                  (re.compile(r"\bi\.e\.,?", re.I), "that is"),
                  (re.compile(r"\bet al\.", re.I), "and colleagues"),
                  (re.compile(r"\betc\."), "and so on"), (re.compile(r"\bvs\."), "versus"),
                  (re.compile(r"\bw\.r\.t\."), "with respect to")]
# The hosts talk about the authors: the paper's "we" is "the authors" on air.
_PERSON = [(re.compile(r"\bWe\b"), "The authors"), (re.compile(r"\bwe\b"), "the authors"),
           (re.compile(r"\bOur\b"), "Their"), (re.compile(r"\bour\b"), "their"),
           (re.compile(r"\bours\b"), "theirs"), (re.compile(r"\bus\b"), "them"),
           (re.compile(r"\bourselves\b"), "themselves")]
MIN_WORDS, MAX_WORDS = 5, 55


def third_person(text: str) -> str:
    for pattern, replacement in _PERSON:
        text = pattern.sub(replacement, text)
    return text


def _is_prose(sentence: str) -> bool:
    """A whole sentence of running text: not a caption's word list or a title run."""
    words = sentence.split()
    if not MIN_WORDS <= len(words) <= MAX_WORDS or not sentence[:1].isupper():
        return False
    if sentence[-1] not in ".!?" or _DEBRIS.search(sentence) or _DANGLING.search(sentence) \
            or _LABEL.search(sentence) or sentence.count('"') % 2:
        return False
    capitalised = sum(w[:1].isupper() for w in words[1:])
    return capitalised <= 0.4 * (len(words) - 1)


def speakable(text: str) -> list[str]:
    """The sentences of `text` a host can say: cleaned, whole, in the third person."""
    text = normalise(_CITATION.sub("", text)).replace("“", '"').replace("”", '"')
    for pattern, replacement in _ABBREVIATIONS:
        text = pattern.sub(replacement, text)
    out = []
    for sentence in _SPLIT.split(text.strip()):
        sentence = sentence.strip()
        sentence = re.sub(r"\s+([,.;:!?])", r"\1", sentence)
        if _is_prose(sentence):
            out.append(third_person(sentence))
    return out


# --- facts: what the segment is composed of -------------------------------------------------

ASPECTS = ("problem", "method", "results", "limits", "points")
# Words that mark what a sentence of an abstract is about; a number counts for results.
_MARKERS = {
    "limits": re.compile(r"\b(?:limitations?|limited|future (?:work|research)|remains? (?:open|"
                         r"unclear|difficult|challenging)|open (?:questions?|problems?)|does not|"
                         r"cannot|fails? to|challenges currently)\b", re.I),
    "results": re.compile(r"\d|\b(?:shows? that|showed|outperform\w*|achiev\w*|demonstrat\w*|"
                          r"results?|finds?|found|accura\w*|experiments?|"
                          r"effective\w*|state-of-the-art|improves?|improvements?)\b", re.I),
    "method": re.compile(r"\b(?:propos\w*|present\w*|introduc\w*|develop\w*|design\w*|build|"
                         r"built|construct\w*|framework|approach|method|architecture|module|"
                         r"dataset|compil\w*|extract\w*|sketch\w*|characteri[sz]\w*|using|"
                         r"based on)\b", re.I),
}
_NEW_THING = re.compile(r"\b(?:propose|present|introduce)s?\b", re.I)
# Words that tie a sentence to the one before it in the paper, which a line may not follow.
_CONNECTIVE = re.compile(r"^(?:Thus|Hence|Therefore|Here|To this end|However|Moreover|"
                         r"Furthermore|In addition|Additionally|Also),?\s+")


def standalone(sentence: str) -> str:
    """A sentence that opens a line, without the connective that tied it to another."""
    sentence = _CONNECTIVE.sub("", sentence)
    return sentence[:1].upper() + sentence[1:]


def aspect_of(sentence: str) -> str:
    """The aspect whose markers a sentence has most of (ties: limits, results, method)."""
    hits = {a: len(p.findall(sentence)) for a, p in _MARKERS.items()}
    best = max(hits, key=lambda a: hits[a])
    return best if hits[best] else "problem"


def _similar(a: str, b: str) -> bool:
    """The same sentence, give or take a word (a summary often copies the abstract)."""
    fa, fb = fingerprint(a), fingerprint(b)
    return fa in fb or fb in fa or SequenceMatcher(None, fa, fb).ratio() > 0.75


@dataclass
class Facts:
    """A paper's speakable sentences by aspect; each is said at most once in a show."""

    origin: str  # "summary" or "abstract"
    hook: str = ""
    aspects: dict[str, list[str]] = field(default_factory=lambda: {a: [] for a in ASPECTS})

    def add(self, aspect: str, sentence: str) -> None:
        sentence = standalone(sentence)
        if not any(_similar(sentence, s) for queue in self.aspects.values() for s in queue):
            self.aspects[aspect].append(sentence)

    def forget(self, seen: set[str]) -> None:
        """Drop what an earlier segment of the show has already said."""
        for queue in self.aspects.values():
            queue[:] = [s for s in queue if not any(fingerprint(s) in line for line in seen)]
        if self.hook and any(fingerprint(self.hook) in line for line in seen):
            self.hook = ""

    def take(self, aspects: tuple[str, ...], words: float) -> tuple[str, str]:
        """Sentences of the first aspect that has any, up to about `words` (at least one),
        and that aspect ("" when none is left)."""
        for aspect in aspects:
            queue = self.aspects[aspect]
            said: list[str] = []
            while queue and (not said or count_words(" ".join(said + queue[:1])) <= words * 1.3):
                said.append(queue.pop(0))
            if said:
                return " ".join(said), aspect
        return "", ""

    def left(self) -> int:
        return sum(len(q) for q in self.aspects.values())


def facts_of(paper: Paper) -> Facts:
    """From the stored summary, with the abstract for what it leaves out (or all of it)."""
    facts = Facts(origin="summary" if paper.summary else "abstract")
    summary = paper.summary or {}
    deep = summary.get("deep") or {}
    abstract = speakable(paper.abstract)
    # The line that says what the paper is: the summary's hook (unless it is only the
    # title), its short summary, or the abstract's sentence that presents the work.
    hooks = [s for s in speakable(summary.get("hook", "")) + speakable(summary.get("short", ""))
             if fingerprint(s) != fingerprint(paper.title)]
    presenting = [s for s in abstract[:4] if _NEW_THING.search(s)]
    facts.hook = standalone((hooks or presenting or abstract or [""])[0])
    for aspect in ("problem", "method", "results", "limits"):
        for sentence in speakable(deep.get(aspect, "")):
            facts.add(aspect, sentence)
    for sentence in speakable(summary.get("short", "")):
        facts.add("problem", sentence)
    for point in summary.get("key_points", []):
        for sentence in speakable(point if point.rstrip()[-1:] in ".!?" else f"{point}."):
            facts.add("results" if re.search(r"\d", sentence) else "points", sentence)
    for sentence in abstract:
        facts.add(aspect_of(sentence), sentence)
    for queue in facts.aspects.values() if facts.hook else ():
        queue[:] = [s for s in queue if not _similar(s, facts.hook)]
    return facts


# --- paper segments -------------------------------------------------------------------------

# What an expert's line answers with, by role: its aspects, most wanted first.
ANSWERS = {"idea": ("problem", "points", "method"), "method": ("method",),
           "results": ("results",), "limits": ("limits",),
           "detail": ("points", "results", "method", "problem", "limits"),
           "react": ("results", "method", "points", "problem"),
           "changed": ("results", "method", "points")}
# The question and the answer's role for what an answer turned out to be about.
ASKED = {"method": ("ask_how", "method"), "results": ("ask_evidence", "results"),
         "limits": ("ask_limits", "limits")}


def variant(*keys: object) -> int:
    return zlib.crc32("|".join(map(str, keys)).encode())


@dataclass
class Composer:
    """Builds one slot's lines from the plan, asking the template for each line's phrasing."""

    slot: Slot
    plan: list
    say: Say
    seen: set[str] = field(default_factory=set)  # lines said earlier in the show
    paper_id: str | None = None
    lines: list[Line] = field(default_factory=list)

    def line(self, n: int, role: str, text: str = "", **context: object) -> None:
        """The n-th plan line's speaker says `role`, in a phrasing not said before."""
        plan = self.plan[min(n, len(self.plan) - 1)]
        first = variant(self.slot.kind, self.slot.title, self.slot.part, len(self.lines), role)
        said = self.seen | {fingerprint(line.text) for line in self.lines}
        for tries in range(PHRASINGS):
            spoken = " ".join(self.say(TEMPLATE, role=role, text=text, speaker=plan.speaker,
                                       to=plan.to, part=self.slot.part, variant=first + tries,
                                       **context).split())
            if fingerprint(spoken) not in said:
                break
        self.lines.append(Line(speaker=plan.speaker, text=spoken, paper_id=self.paper_id))

    @property
    def words(self) -> int:
        return sum(count_words(line.text) for line in self.lines)


def paper_lines(slot: Slot, plan: list, paper: Paper, say: Say, budget_words: float,
                tolerance: float, seen: set[str]) -> tuple[list[Line], str]:
    """A discussion, headline or revision from the paper's facts; and which facts."""
    facts = facts_of(paper)
    facts.forget(seen)
    out = Composer(slot, plan, say, seen, paper.arxiv_id)
    context = {"title": paper.title, "version": paper.version}
    roles = [p.role for p in plan]
    n = 0
    while n < len(plan):
        role = roles[n]
        if role in ("open", "headline", "revision"):
            lead_in = facts.hook or facts.take(ANSWERS["idea"], plan[n].words * 0.7)[0]
            facts.hook = ""
            out.line(n, role, lead_in, **context)
        elif role == "close":
            _fill(out, facts, plan, budget_words, tolerance, context)
            out.line(n, "close", facts.take(("points", "results"), plan[n].words)[0],
                     **context)
        elif role.startswith("ask") and n + 1 < len(plan):
            # The planned aspect, or what is left; the question fits what is answered.
            words = plan[n + 1].words
            answer, aspect = facts.take(ANSWERS.get(roles[n + 1], ANSWERS["detail"]), words)
            if not answer:
                answer, aspect = facts.take(ANSWERS["detail"], words)
                role, roles[n + 1] = ASKED.get(aspect, ("ask_detail", "detail"))
            if answer:  # a question the facts cannot answer is not asked
                out.line(n, role, **context)
                out.line(n + 1, roles[n + 1], answer, **context)
            n += 1
        elif role in ANSWERS:
            text = facts.take(ANSWERS[role], plan[n].words)[0]
            if text:
                out.line(n, role, text, **context)
        n += 1
    if slot.kind == "discussion" and "close" not in roles:
        _fill(out, facts, plan, budget_words, tolerance, context)
    if not out.lines:
        out.line(0, "nothing_left", **context)
    return _alternating(out.lines), facts.origin


def _fill(out: Composer, facts: Facts, plan: list, budget_words: float, tolerance: float,
          context: dict) -> None:
    """Under budget with facts left: more questions and answers, lead and expert in turn."""
    expert = next((i for i, p in enumerate(plan) if p.speaker != plan[0].speaker), None)
    if expert is None:
        return
    while facts.left() and out.words < budget_words * (1 - tolerance / 2):
        answer, aspect = facts.take(ANSWERS["detail"], plan[expert].words)
        ask, role = ASKED.get(aspect, ("ask_detail", "detail"))
        if not out.lines or out.lines[-1].speaker != plan[0].speaker:
            out.line(0, ask, **context)
        out.line(expert, role, answer, **context)


def theme_lines(slot: Slot, plan: list, context: dict, say: Say, seen: set[str]) -> list[Line]:
    """A weekly theme: each paper by its title and first speakable summary sentence."""
    out = Composer(slot, plan, say, seen)
    papers = list(context.get("papers", []))
    links = list(context.get("links", []))
    common = {"theme": context.get("theme", slot.title), "count": len(papers)}
    for n, plan_line in enumerate(plan):
        role = plan_line.role
        if role == "theme_paper" and papers:
            item = papers.pop(0)
            said = speakable(item["summary"])
            presenting = [s for s in said[:4] if _NEW_THING.search(s)]
            out.line(n, role, standalone((presenting or said or [""])[0]),
                     title=item["title"], **common)
        elif role == "theme_link" and links:
            link = links.pop(0)
            out.line(n, role, a=link["a"], b=link["b"], **common)
        elif role in ("theme_open", "theme_ask", "close"):
            if role == "theme_ask" and not (papers or links):
                continue
            out.line(n, "theme_close" if role == "close" else role, **common)
    return _alternating(out.lines)


def show_lines(slot: Slot, plan: list, context: dict, say: Say, seen: set[str]) -> list[Line]:
    """Intro, outro and transitions: the show's own words, nothing about a paper's content."""
    out = Composer(slot, plan, say, seen)
    for n, plan_line in enumerate(plan):
        out.line(n, plan_line.role, **context)
    return out.lines


def _alternating(lines: list[Line]) -> list[Line]:
    """Two lines of one speaker in a row (a skipped turn) become one."""
    out: list[Line] = []
    for line in lines:
        if out and out[-1].speaker == line.speaker:
            out[-1] = out[-1].model_copy(update={"text": f"{out[-1].text} {line.text}"})
        else:
            out.append(line)
    return out
