"""Writing a show: one segment at a time, under a schema, checked, with a fallback.

For each slot of the rundown the writer plans the lines (who speaks, in what role, how many
words), renders the slot's prompt template with the paper's summary and retrieved passages
as delimited data, and asks the LLM for JSON whose schema fixes the number of lines, each
line's speaker and its length in characters. The result must pass `checks`; a failing
segment is written again (told which names it made up) up to `writer.max_regenerations`
times, then composed without the LLM (radio.shows.fallback: from the paper's stored
summary or its cleaned abstract, phrased by templates), so a show always completes, also
when the LLM is down.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import date
from functools import partial

import jsonschema

from radio.artifacts import DataRoot
from radio.backends.llm import LLM, LLMError
from radio.config import Host, Settings
from radio.messages import ShowRequested
from radio.shows import fallback
from radio.shows.checks import (
    SegmentCheck,
    check_segment,
    check_show,
    clean_text,
    copies,
    fingerprint,
)
from radio.shows.programme import Paper, Ranker, plan_show
from radio.shows.script import Line, Rundown, Script, Segment, Slot, count_words
from radio.shows.templates import line_keys, render
from radio.store import Store
from radio.understanding.chunks import Chunk, make_chunks
from radio.understanding.grounding import Source

log = logging.getLogger(__name__)

CHARS_PER_WORD = 6.2  # measured on the default model's lines, spaces included
# The schema's bounds on a line's characters around its target. Small models write up to
# the upper bound, so it sits just above the target; short lines get room to finish. The
# lower bound keeps a small model, which is told no word counts, from stopping after a
# phrase: with both, a segment's length stays inside its tolerance.
LINE_SLACK = (0.8, 1.05)
LINE_EXTRA_CHARS = 20
SHORT_LINE_WORDS, SHORT_LINE_SLACK = 22, 1.4
# What a line may contain: plain spoken English. Excluding markup, quotes, newlines and other
# scripts in the grammar itself keeps a small model from drifting into them; and a line can
# only end on a full stop, question or exclamation mark.
SPOKEN_CHARS = "[A-Za-z0-9 .,;:!?'()%&+/-]"
PASSAGES = 2
TEMPLATES = {"intro": "show_intro.j2", "discussion": "show_paper.j2",
             "headline": "show_headline.j2", "revision": "show_headline.j2",
             "transition": "show_transition.j2", "theme": "show_theme.j2",
             "outro": "show_outro.j2"}
# What each expert line of a discussion covers, most wanted first, and the question before it.
EXPERT_PRIORITY = ["idea", "results", "method", "limits"]
EXPERT_ORDER = ["idea", "method", "results", "limits", "detail"]
ASK = {"method": "ask_how", "results": "ask_evidence", "limits": "ask_limits",
       "detail": "ask_detail", "idea": "ask_detail"}
ROLE_WEIGHT = {"open": 1.0, "close": 0.8, "welcome": 1.0, "preview": 1.0, "recap": 1.0,
               "goodbye": 0.8, "bridge": 1.0, "headline": 1.2, "react": 0.8, "revision": 1.0,
               "changed": 1.0, "theme_open": 1.0, "theme_ask": 0.6}
SECTION_OF_ROLE = {"idea": "problem", "method": "method", "results": "results",
                   "limits": "limits"}


class BadOutput(ValueError):
    """The model answered, but not in the shape asked for."""


def finish_sentence(text: str, *, cut: bool = False) -> str:
    """A line cut by its length bound ends at its last full sentence, if it has one.

    The grammar ends every line on . ! or ?, so a line that reached its bound (`cut`) may
    end on a forced stop in mid-sentence: then its last sentence is dropped (the segment's
    length check says whether enough is left), or, when nothing would be left, the stop is
    removed and the checks see a fragment.
    """
    text = text.rstrip(" ,;:-(&+/")
    if cut:
        end = max(text[:-1].rfind(". "), text[:-1].rfind("! "), text[:-1].rfind("? "))
        return text[:end + 1] if end > 0 else text.rstrip(".!?")
    if not text or text[-1] in ".!?)'":
        return text
    end = max(text.rfind(". "), text.rfind("! "), text.rfind("? "))
    return text[:end + 1] if end >= 0.5 * len(text) else text


def fixes(problems: list[str], words: int, budget: float) -> dict:
    """What the next attempt must do differently, for the template to put in words.

    Only the kinds of failure and the unsupported claims go back to the model: numbers from
    the checks themselves (word counts) would be copied into the lines.
    """
    unsupported = [c.strip() for p in problems if "not in the paper: " in p
                   for c in p.split("not in the paper: ", 1)[1].split(",")]
    length = None
    if any("words, budget" in p for p in problems):
        length = "shorter" if words > budget else "longer"
    return {"unsupported": list(dict.fromkeys(unsupported))[:8], "length": length,
            "cut": any("mid-sentence" in p for p in problems),
            "repeat": any("repeats" in p for p in problems),
            "copy": any("copies the abstract" in p for p in problems),
            "markup": any("URL or markup" in p or "not in English" in p for p in problems),
            "fragment": any("fragment" in p for p in problems),
            "authors": any("as the paper's authors" in p for p in problems),
            "echo": any("repeats the instructions" in p for p in problems),
            "mention": any("does not name" in p for p in problems)}


def instructions_only(prompt: str) -> str:
    """The prompt without its data, for checking that lines do not echo it."""
    return re.sub(r"<(paper|show)>.*?</\1>", " ", prompt, flags=re.S)


def prompt_names(context: dict, hosts: list[str], station: str) -> list[str]:
    """What the prompt names (titles, date, hosts): a line may say these."""
    names = [v for v in context.values() if isinstance(v, str)] + [*hosts, station]
    paper = context.get("paper")
    names += [paper.title] if paper is not None else []
    names += [i for i in context.get("rundown", []) if isinstance(i, str)]
    return [n for n in names if n]


@dataclass
class Prompt:
    """What the model is asked: two messages, and the keys its JSON reply fills."""

    system: str
    user: str
    keys: list[str]

    @property
    def instructions(self) -> str:
        """All the model reads except the data: what a line must not say back."""
        return instructions_only(f"{self.system}\n{self.user}\n" + "\n".join(self.keys))


@dataclass
class LinePlan:
    speaker: str
    to: str
    role: str
    words: int


@dataclass
class Material:
    """What a slot is written from, and what its lines are checked against."""

    context: dict
    source: Source
    allowed: list[str]
    abstract: str = ""
    instructions: str = ""  # the last prompt without its data


# --- line plans and schemas ----------------------------------------------------------------


def _words_for(roles: list[str], budget_words: float) -> list[int]:
    weights = [ROLE_WEIGHT.get(r, 0.55 if r.startswith("ask") else 1.35) for r in roles]
    return [max(6, round(budget_words * w / sum(weights))) for w in weights]


def _discussion_roles(slot: Slot, budget_words: float) -> list[str]:
    """Lead and expert alternate; part 1 opens, the last part closes."""
    n = max(3, round(budget_words / 34))
    last = slot.part == slot.parts
    if last and n % 2 == 0:
        n += 1  # ends with the lead's closing line
    if not last and n % 2 == 1:
        n += 1  # ends with the expert, so the next part starts with the lead
    experts = n // 2
    if slot.parts == 1:
        picked = (EXPERT_PRIORITY + ["detail"] * experts)[:experts]
    else:  # spread the aspects over the parts, in their natural order
        order = EXPERT_ORDER[:4] + ["detail"] * (experts * slot.parts)
        picked = order[(slot.part - 1) * experts:slot.part * experts]
    expert_roles = sorted(picked, key=EXPERT_ORDER.index)
    roles: list[str] = []
    for i, role in enumerate(expert_roles):
        roles.append("open" if i == 0 and slot.part == 1 else ASK[role])
        roles.append(role)
    if last:
        roles.append("close")
    return roles


def _theme_roles(budget_words: float, has_links: bool) -> list[str]:
    n = max(5, round(budget_words / 34) | 1)
    middle = []
    for i in range((n - 3) // 2):
        middle += ["theme_ask", "theme_link" if has_links and i % 2 else "theme_paper"]
    return ["theme_open", "theme_paper", *middle, "close"]


def plan_lines(slot: Slot, hosts: list[Host], wpm: int, item_index: int = 0,
               *, has_earlier: bool = False, has_links: bool = False) -> list[LinePlan]:
    """Who says what in a slot: roles, speakers and words per line."""
    names = [h.name for h in hosts]
    lead, expert = names[0], names[1]
    reader = names[2] if len(names) > 2 else names[item_index % 2]
    budget = slot.budget_s * wpm / 60
    if slot.kind == "discussion":
        roles = _discussion_roles(slot, budget)
    elif slot.kind == "theme":
        roles = _theme_roles(budget, has_links)
    elif slot.kind == "headline":
        roles = ["headline", "react"][: 1 if budget <= 45 else 2]
    elif slot.kind == "revision":
        roles = ["revision", "changed"] if has_earlier and budget > 30 else ["revision"]
    else:
        roles = {"intro": ["welcome", "preview"], "outro": ["recap", "goodbye"],
                 "transition": ["bridge"]}[slot.kind]
    speakers = {"headline": reader, "revision": reader, "preview": expert, "recap": expert,
                "react": lead if reader != lead else expert,
                "changed": lead if reader != lead else expert}
    plans: list[LinePlan] = []
    for n, (role, words) in enumerate(zip(roles, _words_for(roles, budget), strict=True)):
        if slot.kind in ("discussion", "theme"):
            speaker = lead if n % 2 == 0 else expert
        else:
            speaker = speakers.get(role, lead)
        other = expert if speaker != expert else lead
        plans.append(LinePlan(speaker=speaker, to=other, role=role, words=words))
    return plans


def line_bounds(words: int, role: str = "") -> tuple[int, int]:
    """A line's length in characters; short questions get room to finish."""
    target = words * CHARS_PER_WORD
    short_question = role.startswith("ask") and words < SHORT_LINE_WORDS
    slack = SHORT_LINE_SLACK if short_question else LINE_SLACK[1]
    return int(target * LINE_SLACK[0]), int(target * slack + LINE_EXTRA_CHARS)


def line_key(n: int, line: LinePlan, keys: dict[str, str]) -> str:
    """The key line n is written under: its number, speaker and what it does."""
    speaker = re.sub(r"[^a-z0-9]+", "_", line.speaker.lower()).strip("_")
    size = "one_sentence" if line.words <= 15 else "two_sentences" if line.words <= 32 \
        else "three_sentences"  # a small model keeps to sentences better than to words
    return f"{n}_{speaker}_{keys.get(line.role, line.role)}_in_{size}"


def segment_schema(plan: list[LinePlan], keys: dict[str, str]) -> dict:
    """JSON schema that fixes the lines: one key per line, in order, its length in characters.

    Each key names the speaker and what the line does (prompts/line_keys.json): the model
    reads it as it writes the line, and there is no instruction sentence it could copy.
    """
    properties = {}
    for n, line in enumerate(plan, start=1):
        low, high = line_bounds(line.words, line.role)
        end = "[?]" if "ask" in line.role else "[.!?]"  # a question is asked as one
        properties[line_key(n, line, keys)] = {
            "type": "string", "pattern": f"^{SPOKEN_CHARS}{{{low},{high}}}{end}$"}
    return {"type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": False}


# --- material: what each slot is written from ----------------------------------------------


def paper_text(store: Store, data: DataRoot, arxiv_id: str) -> tuple[str, dict | None]:
    """The paper's extracted text and sections, if the pdf stage left them."""
    rows = store.query("SELECT path FROM artifacts WHERE owner=? AND kind LIKE '%text%' "
                       "ORDER BY created_at DESC", (arxiv_id,))
    folder = data.paper_dir(arxiv_id)
    text = ""
    for path in [*(data.resolve(r[0]) for r in rows), folder / "text.txt"]:
        if path.is_file():
            text = path.read_text(errors="replace")
            break
    sections = None
    if (folder / "sections.json").is_file():
        try:
            sections = json.loads((folder / "sections.json").read_text())
        except ValueError:
            log.warning("%s: unreadable sections.json; using the plain text", arxiv_id)
    return text, sections


def _query_words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z][a-z0-9-]{3,}", text.lower())}


def retrieve(text: str, sections: dict | None, query: str, abstract: str = "",
             count: int = PASSAGES) -> list[Chunk]:
    """The passages that share most words with the query (numbers weigh extra); not the
    front matter or the abstract, which the model sees anyway."""
    chunks = [c for c in (make_chunks(text, sections)[:400] if text else [])
              if "@" not in c.text and not copies(c.text, abstract, share=0.2)]
    wanted = _query_words(query)
    if not chunks or not wanted:
        return []

    def score(chunk: Chunk) -> float:
        words = _query_words(chunk.text)
        return len(words & wanted) / (len(words) ** 0.5 + 1) + 0.2 * bool(
            re.search(r"\d+\.\d+|\d+%", chunk.text))

    best = sorted(chunks, key=score, reverse=True)[:count]
    return sorted(best, key=lambda c: c.index)


def spoken_passages(passages: list[Chunk]) -> list[Chunk]:
    """Passages as the model should read them: captions, citation debris and formulas
    dropped, "we" turned into "the authors", so the lines need not repair them."""
    out = [Chunk(index=c.index, text=" ".join(fallback.speakable(c.text)), section=c.section,
                 kind=c.kind) for c in passages]
    return [c for c in out if c.text]


def summary_text(summary: dict | None) -> str:
    if not summary:
        return ""
    deep = summary.get("deep", {})
    parts = [summary.get("hook", ""), summary.get("short", ""), *deep.values(),
             *summary.get("key_points", [])]
    return " ".join(p for p in parts if isinstance(p, str))


class ShowWriter:
    """Writes one requested show into a Script; the LLM may be None (fallback only)."""

    def __init__(self, settings: Settings, store: Store, data: DataRoot, llm: LLM | None,
                 ranker: Ranker | None = None) -> None:
        self.settings, self.store, self.data, self.llm = settings, store, data, llm
        self.ranker = ranker or Ranker(settings)
        self.hosts = settings.writer.hosts
        if len(self.hosts) < 2:
            raise ValueError("writer.hosts: a show needs at least two hosts")
        self.names = [h.name for h in self.hosts]
        self.station = settings.feed.title
        self._llm_failures = 0

    # --- the show ------------------------------------------------------------------------

    def write(self, request: ShowRequested) -> Script:
        started = time.monotonic()
        rundown, papers = plan_show(self.store, request, self.settings, self.ranker)
        segments: list[Segment] = []
        seen: set[str] = set()
        headlines = 0
        for slot in rundown.slots:
            previous = segments[-1].slot.title if segments else None
            segment = self.write_slot(slot, rundown, papers, seen, previous, headlines)
            headlines += slot.kind in ("headline", "revision")
            seen |= {fingerprint(line.text) for line in segment.lines}
            segments.append(segment)
            log.info("%s: %s %r by %s (%d attempts%s)", request.show_id, slot.kind,
                     slot.title[:50], segment.source, segment.attempts,
                     f"; {len(segment.problems)} problems" if segment.problems else "")
        script = Script(show_id=request.show_id, kind=request.kind, title=rundown.title,
                        date=request.date, model=self.llm.name if self.llm else "none",
                        words_per_minute=self.settings.writer.words_per_minute,
                        rundown=rundown, segments=segments,
                        writing_s=round(time.monotonic() - started, 1))
        script.problems = check_show(script, self.names, self.settings.writer.length_tolerance,
                                     request.length_s)
        return script

    # --- one segment ---------------------------------------------------------------------

    def write_slot(self, slot: Slot, rundown: Rundown, papers: dict[str, Paper],
                   seen: set[str], previous: str | None, item_index: int = 0) -> Segment:
        paper = papers.get(slot.paper_ids[0]) if slot.paper_ids and slot.kind in (
            "discussion", "headline", "revision") else None
        material = self.material(slot, rundown, papers, paper, previous)
        plan = plan_lines(slot, self.hosts, self.settings.writer.words_per_minute, item_index,
                          has_earlier=bool(paper and paper.earlier),
                          has_links=bool(material.context.get("links")))
        spec = SegmentCheck(
            hosts=self.names, budget_words=sum(p.words for p in plan),
            tolerance=self.settings.writer.segment_tolerance, source=material.source,
            allowed=material.allowed, abstract=material.abstract, seen=seen,
            names=prompt_names(material.context, self.names, self.station),
            mention=[material.context["next"]] if slot.kind == "transition" else [])
        problems: list[str] = []
        drafts: list[float] = []
        avoid: dict = {}
        attempts = 0
        while self._llm_usable() and attempts <= self.settings.writer.max_regenerations:
            attempts += 1
            try:
                lines = self.generate(slot, plan, material, avoid, paper)
            except LLMError as exc:
                self._llm_failures += 1
                problems.append(f"attempt {attempts}: LLM failed: {exc}"[:300])
                break
            except BadOutput as exc:
                problems.append(f"attempt {attempts}: {exc}")
                continue
            self._llm_failures = 0
            spec.instructions = material.instructions
            found, report = check_segment(lines, spec)
            drafts.append(round(report.rate, 3))
            if not found:
                return Segment(slot=slot, lines=lines, source="llm", attempts=attempts,
                               problems=problems, grounding_rate=report.rate,
                               draft_grounding=drafts)
            problems += [f"attempt {attempts}: {p}" for p in found]
            log.info("%s %r attempt %d failed: %s", slot.kind, slot.title[:40], attempts,
                     "; ".join(found))
            log.debug("rejected draft: %s", json.dumps([line.text for line in lines]))
            avoid = fixes(found, sum(count_words(line.text) for line in lines),
                          spec.budget_words)
        lines, source = self.fallback(slot, plan, material, paper, spec)
        _, report = check_segment(lines, spec, copy_check=False)
        return Segment(slot=slot, lines=lines, source=source, attempts=attempts,
                       problems=problems, grounding_rate=report.rate, draft_grounding=drafts)

    def _llm_usable(self) -> bool:
        # Two LLM errors in a row (server down, model broken): the rest of the show is
        # written without it rather than waiting out every retry.
        return self.llm is not None and self._llm_failures < 2

    def generate(self, slot: Slot, plan: list[LinePlan], material: Material,
                 avoid: dict, paper: Paper | None) -> list[Line]:
        assert self.llm is not None
        chars = sum(line_bounds(p.words, p.role)[1] for p in plan)
        sampling = self.settings.llm.dialogue.model_copy(
            update={"max_tokens": int(chars / 3 + 20 * len(plan) + 40)})
        prompt = self.prompt(slot, plan, material, avoid)
        schema = segment_schema(plan, line_keys(self.settings))
        reply = self.llm.chat([{"role": "system", "content": prompt.system},
                               {"role": "user", "content": prompt.user}],
                              sampling=sampling, schema=schema)
        try:
            data = json.loads(reply, strict=False)
            jsonschema.validate(data, schema)
        except (ValueError, jsonschema.ValidationError) as exc:
            raise BadOutput(f"reply does not fit the schema: {str(exc)[:200]}") from exc
        material.instructions = prompt.instructions
        return [Line(speaker=p.speaker,
                     text=finish_sentence(clean_text(data[key], self.names),
                                          cut=len(data[key]) > line_bounds(p.words, p.role)[1]),
                     paper_id=paper.arxiv_id if paper else None,
                     section=SECTION_OF_ROLE.get(p.role))
                for p, key in zip(plan, prompt.keys, strict=True)]

    def prompt(self, slot: Slot, plan: list[LinePlan], material: Material,
               avoid: dict) -> Prompt:
        """The messages that ask for a slot's lines, and the keys the lines go under."""
        keys = line_keys(self.settings)
        names = [line_key(n, p, keys) for n, p in enumerate(plan, start=1)]
        system = render(self.settings, "show_system.j2", station=self.station, hosts=self.hosts)
        user = render(self.settings, TEMPLATES[slot.kind], lines=plan, avoid=avoid,
                      keys=names, **material.context)
        return Prompt(system, user, names)

    def fallback(self, slot: Slot, plan: list[LinePlan], material: Material,
                 paper: Paper | None, spec: SegmentCheck) -> tuple[list[Line], str]:
        """The segment without the LLM: from the paper's summary (or cleaned abstract) for
        paper slots, from templates for the rest."""
        say = partial(render, self.settings)
        if paper is not None:
            return fallback.paper_lines(slot, plan, paper, say, spec.budget_words,
                                        spec.tolerance, spec.seen)
        if slot.kind == "theme":
            origins = {item["origin"] for item in material.context["papers"]}
            return fallback.theme_lines(slot, plan, material.context, say, spec.seen), \
                "summary" if origins == {"summary"} else "abstract"
        return fallback.show_lines(slot, plan, material.context, say, spec.seen), "template"

    # --- material ------------------------------------------------------------------------

    def material(self, slot: Slot, rundown: Rundown, papers: dict[str, Paper],
                 paper: Paper | None, previous: str | None) -> Material:
        allowed = [*self.names, *self.station.split(), *rundown.title.replace(",", "").split()]
        if paper is not None:
            return self._paper_material(slot, paper, previous, allowed)
        if slot.kind == "theme":
            return self._theme_material(slot, papers, allowed)
        return self._show_material(slot, rundown, papers, allowed)

    def _paper_material(self, slot: Slot, paper: Paper, previous: str | None,
                        allowed: list[str]) -> Material:
        summary = paper.summary
        passages: list[Chunk] = []
        if slot.kind == "discussion":
            aspect = slot.focus or "method results evaluation accuracy"
            query = f"{aspect} {summary_text(summary) or paper.abstract}"
            text, sections = paper_text(self.store, self.data, paper.arxiv_id)
            passages = spoken_passages(retrieve(text, sections, query, paper.abstract))
        context = {"paper": paper, "summary": summary, "passages": passages,
                   "abstract": " ".join(fallback.speakable(paper.abstract)) or paper.abstract,
                   "focus": slot.focus, "previous": previous if slot.part > 1 else None,
                   "earlier": paper.earlier}
        earlier = summary_text(paper.earlier)
        source = "\n".join([paper.title, ", ".join(paper.authors), paper.abstract,
                            summary_text(summary), earlier, f"version {paper.version}",
                            paper.arxiv_id, *(p.text for p in passages)])
        return Material(context=context, source=Source(source), allowed=allowed,
                        abstract=paper.abstract)

    def _theme_material(self, slot: Slot, papers: dict[str, Paper],
                        allowed: list[str]) -> Material:
        members = [papers[a] for a in slot.paper_ids if a in papers]
        items = [{"title": p.title, "summary": (p.summary or {}).get("short") or p.abstract,
                  "origin": "summary" if p.summary else "abstract"} for p in members]
        ids = set(slot.paper_ids)
        links = [{"a": p.title, "b": papers[r].title} for p in members for r in p.related
                 if r in ids and p.arxiv_id < r]
        context = {"theme": slot.focus or slot.title, "papers": items, "links": links}
        source = "\n".join([slot.focus or "", *(f"{i['title']}\n{i['summary']}" for i in items),
                            str(len(items))])
        return Material(context=context, source=Source(source), allowed=allowed,
                        abstract=" ".join(p.abstract for p in members))

    def _show_material(self, slot: Slot, rundown: Rundown, papers: dict[str, Paper],
                       allowed: list[str]) -> Material:
        day = date.fromisoformat(rundown.date)
        spoken_date = f"{day:%A}, {day.day} {day:%B %Y}"
        covered = [papers[a] for a in rundown.paper_ids if a in papers]
        items = [s.title for s in rundown.slots if s.kind in ("discussion", "headline",
                                                                 "revision", "theme")]
        items = list(dict.fromkeys(items))
        context = {"title": rundown.title, "station": self.station, "spoken_date": spoken_date,
                   "paper_count": len(covered), "rundown": items[:12],
                   "previous": slot.focus or "", "next": slot.title.removeprefix("to: ")}
        source = "\n".join([rundown.title, spoken_date, rundown.date, str(len(covered)),
                            *items, *(summary_text(p.summary) or p.abstract for p in covered)])
        return Material(context=context, source=Source(source), allowed=allowed)


def write_show(settings: Settings, store: Store, data: DataRoot, llm: LLM | None,
               request: ShowRequested, ranker: Ranker | None = None) -> Script:
    return ShowWriter(settings, store, data, llm, ranker).write(request)
