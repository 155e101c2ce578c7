"""Writing a show: the rundown's slots become beats, and the beats a conversation.

Each paper is talked through from its fact sheet (radio.understanding.facts), one exchange
per fact, in the order a listener needs them: the problem, why it is hard, the key idea
(with an analogy), the results (number and baseline), the catch, why it matters. A
segment gets as many exchanges as it has facts and time for, so a paper with little to
say gets a short segment rather than padding; the show's planned length is what its
segments plan. The generalist host asks, restates and pushes back; the explainer answers.
The show's own moments (welcome, links between papers, headlines, recap) are beats too.
Every line passes the same checks, fallback lines included (radio.shows.dialogue).
"""

from __future__ import annotations

import logging
import re
import time
import zlib
from dataclasses import dataclass
from datetime import date
from functools import partial

from radio.artifacts import DataRoot
from radio.backends.llm import LLM, LLMError, keep_warm
from radio.config import Settings
from radio.messages import ShowRequested
from radio.shows.checks import check_show
from radio.shows.dialogue import Beat, Conversation, LineChecks, Outcome, Turn
from radio.shows.papers import Paper
from radio.shows.ranking import Ranker
from radio.shows.rundown import plan_show
from radio.shows.script import (
    Block,
    BlockSource,
    Line,
    Rundown,
    Script,
    Slot,
    count_words,
)
from radio.shows.speakable import third_person
from radio.shows.templates import render
from radio.store import Store
from radio.understanding.chunks import make_chunks
from radio.understanding.facts import (
    Fact,
    FactSheet,
    Result,
    SheetBuilder,
    number_passages,
    runs_of,
    short_name_of,
)
from radio.understanding.grounding import Source
from radio.understanding.summaries import (
    STAGE,
    being_read_by,
    mark_reading,
    save_summary,
    stored_facts,
    wait_for_reader,
)
from radio.understanding.summarize import (
    Grounding,
    PaperText,
    SummaryRecord,
    ask_for_facts,
    restate_copies,
    summary_from,
)

log = logging.getLogger(__name__)

ASK_WORDS = 14  # the generalist's question or reaction: one sentence
ANSWER_WORDS = (20, 34)  # the explainer's answer: two short sentences, as the default
# model writes them (asked for more, it stops at about 30 words anyway)
ON_DEMAND_PASSAGES = 6  # passages a fact sheet the writer makes itself reads
# Which facts a segment keeps when its time is short, most wanted first.
PRIORITY = ["problem", "key_idea", "result", "why_it_matters", "limitation", "result",
            "why_hard", "result"]
ORDER = ["problem", "why_hard", "key_idea", "result", "limitation", "why_it_matters"]
SECTION = {"problem": "problem", "why_hard": "problem", "key_idea": "method",
           "result": "results", "limitation": "limits", "why_it_matters": "results"}


@dataclass
class Topic:
    """One fact a paper's exchange is about."""

    name: str
    fact: Fact


def pick_topics(sheet: FactSheet, count: int) -> list[Topic]:
    """Up to `count` of the sheet's facts, the most wanted first, in the order of a talk."""
    pool: dict[str, list[Fact]] = {}
    for name, fact in sheet.facts():
        pool.setdefault(name, []).append(fact)
    chosen: list[Topic] = []
    for name in PRIORITY:
        if len(chosen) >= count:
            break
        if pool.get(name):
            chosen.append(Topic(name, pool[name].pop(0)))
    return sorted(chosen, key=lambda t: ORDER.index(t.name))


def sheet_from_summary(summary: dict) -> FactSheet | None:
    """A fact sheet from an older summary without one: its sentences, uncited."""
    deep = summary.get("deep", {})

    def fact(text: str) -> Fact | None:
        return Fact(text=text) if text and text.strip() else None

    sheet = FactSheet(short_name="", problem=fact(deep.get("problem", "")),
                      key_idea=fact(deep.get("method", "")),
                      limitation=fact(deep.get("limits", "")),
                      why_it_matters=fact(summary.get("hook", "")))
    return sheet if sheet.key_idea or sheet.problem else None


def sentence(text: str) -> str:
    """A fact as a spoken sentence: it ends on a full stop."""
    text = text.strip()
    return text if text[-1:] in ".!?" else text.rstrip(",;:") + "."


def as_notes(fact: Fact, words: int = 7) -> list[str]:
    """A fact as the model reads it (in the paper's sheet and in its exchange's cue): whole
    when it is the model's own words; cut into short notes when it is the paper's sentence,
    which a small model would otherwise read back, to be refused as a copy."""
    if not fact.copied:
        return [fact.text]
    tokens = fact.text.rstrip(".").split()
    return [" ".join(tokens[i:i + words]) for i in range(0, len(tokens), words)]


def variant(*keys: object) -> int:
    """A stable choice among phrasings: shows vary, a show written twice is the same."""
    return zlib.crc32("|".join(map(str, keys)).encode())


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
        self.asker, self.explainer = self.names[0], self.names[1]
        self.station = settings.feed.title
        self.wpm = settings.writer.words_per_minute
        self.sheets: dict[str, FactSheet | None] = {}
        self.runs: dict[str, set[tuple[str, ...]]] = {}  # each paper's 12-word runs
        self.reserve: dict[str, list[Topic]] = {}  # facts no exchange of the paper took
        self.spoken: list[Line] = []
        self.llm_down = False
        self.llm_error: str | None = None
        self.show_id = ""

    # --- the show ------------------------------------------------------------------------

    def write(self, request: ShowRequested) -> Script:
        started = time.monotonic()
        self.show_id = request.show_id
        rundown, papers = plan_show(self.store, request, self.settings, self.ranker)
        self.checks = LineChecks(hosts=self.names, allowed=self._allowed(rundown),
                                 station=self.station,
                                 names=[*self.names, self.station, rundown.title],
                                 titles=[papers[a].title for a in rundown.paper_ids])
        for arxiv_id in rundown.paper_ids:
            self.sheets[arxiv_id] = self.sheet(papers[arxiv_id])
            self.checks.titles.append(self.short_name(papers[arxiv_id]))
            self.runs[arxiv_id] = runs_of("\n".join([
                papers[arxiv_id].abstract, paper_text(self.store, self.data, arxiv_id)[0]]))
        segments: list[Block] = []
        slots = rundown.slots
        with keep_warm(self.llm):  # the summarizer waits between this show's calls
            for i, slot in enumerate(slots):
                segment = self.write_slot(slot, rundown, papers, slots[i - 1] if i else None,
                                          slots[i + 1] if i + 1 < len(slots) else None)
                segments.append(segment)
                self.spoken += segment.lines
                log.info("%s: %s %r: %d lines by %s%s", request.show_id, slot.kind,
                         slot.title[:50], len(segment.lines), segment.source,
                         f"; {len(segment.problems)} problems" if segment.problems else "")
        planned_s = sum(s.slot.budget_s for s in segments)
        script = Script(show_id=request.show_id, kind=request.kind, title=rundown.title,
                        date=request.date, model=self.llm.name if self.llm else "none",
                        words_per_minute=self.wpm, rundown=rundown, blocks=segments,
                        planned_s=round(planned_s, 1),
                        writing_s=round(time.monotonic() - started, 1))
        script.problems = check_show(script, self.names, self.settings.writer.length_tolerance,
                                     planned_s)
        if self.llm_down or self.llm is None:
            script.problems.append("written without the LLM: " + (self.llm_error or "none"))
        if planned_s < 0.9 * request.length_s:
            script.problems.append(f"material for {planned_s:.0f} s of the {request.length_s} s "
                                   "asked for: the show is planned shorter, not padded")
        return script

    def _allowed(self, rundown: Rundown) -> list[str]:
        return [*self.names, *self.station.split(), *rundown.title.replace(",", "").split()]

    # --- fact sheets ---------------------------------------------------------------------

    def sheet(self, paper: Paper) -> FactSheet | None:
        """The paper's stored fact sheet; else the summarizer's, waited for while it reads
        the paper; else one made now and saved as the paper's summary (so the LLM reads each
        paper once); else one from an older summary."""
        if paper.facts is not None:
            return paper.facts
        if self.llm is not None and not self.llm_down:
            if being_read_by(self.store, paper.arxiv_id, paper.version) is not None:
                log.info("%s: waiting for the summarizer, which is reading it", paper.arxiv_id)
                if wait_for_reader(self.store, paper.arxiv_id, paper.version):
                    facts = stored_facts(self.store, paper.arxiv_id, paper.version)
                    if facts is not None:
                        return facts
            try:
                return self._sheet_now(paper)
            except LLMError as exc:
                self.llm_down, self.llm_error = True, str(exc)[:200]
                log.warning("%s: no fact sheet (%s)", paper.arxiv_id, exc)
                self.store.set_stage(paper.arxiv_id, paper.version, STAGE, "failed",
                                     f"writer: {exc}"[:300])
        return sheet_from_summary(paper.summary) if paper.summary else None

    def _sheet_now(self, paper: Paper) -> FactSheet:
        assert self.llm is not None
        mark_reading(self.store, paper.arxiv_id, paper.version, f"writer: {self.show_id}")
        text, sections = paper_text(self.store, self.data, paper.arxiv_id)
        chunks = [c for c in make_chunks(text, sections) if c.kind != "abstract"]
        rich = sorted(chunks, key=lambda c: -len(re.findall(r"\d+(?:\.\d+)?%?", c.text)))
        chosen = sorted(rich[:ON_DEMAND_PASSAGES], key=lambda c: c.index)
        passages = number_passages(paper.abstract, chosen)
        data = ask_for_facts(self.llm, self.settings.llm.summary, paper.title, passages)
        builder = SheetBuilder(paper.title, paper.authors, passages,
                               f"{paper.abstract}\n{text}")
        sheet = restate_copies(self.llm, self.settings.llm.summary, builder,
                               builder.build(data))
        save_summary(self.store, self.data, self._record(paper, text, sheet, builder))
        log.info("%s: fact sheet written for the show and saved as its summary (%d dropped)",
                 paper.arxiv_id, len(builder.dropped))
        return sheet

    def _record(self, paper: Paper, text: str, sheet: FactSheet,
                builder: SheetBuilder) -> SummaryRecord:
        """The writer's sheet as the paper's summary, as the summarizer would store it."""
        assert self.llm is not None
        proposed = len(sheet.facts()) + len(builder.dropped)
        read = PaperText(arxiv_id=paper.arxiv_id, version=paper.version, title=paper.title,
                         abstract=paper.abstract, text=text)
        return SummaryRecord(
            arxiv_id=paper.arxiv_id, version=paper.version, title=paper.title,
            model=self.llm.name, mode="for_show",
            passages=[p.chunk for p in builder.passages if p.chunk is not None],
            summary=summary_from(sheet, read), facts=sheet,
            grounding=Grounding(rate=len(sheet.facts()) / proposed if proposed else 1.0,
                                checked=proposed, dropped=builder.dropped, unsupported=[],
                                attempts=1))

    # --- one slot ------------------------------------------------------------------------

    def write_slot(self, slot: Slot, rundown: Rundown, papers: dict[str, Paper],
                   before: Slot | None, after: Slot | None) -> Block:
        if slot.kind == "discussion":
            paper = papers[slot.paper_ids[0]]
            beats, system = self.discussion(slot, paper), self.paper_system(paper)
        else:
            beats, system = self.show_beats(slot, rundown, papers, before, after), \
                render(self.settings, "show_system.j2", station=self.station,
                       hosts=self.hosts, paper=None, sheet=None)
        conversation = self._conversation(slot, system)
        self.checks.paper_runs = set().union(*(self.runs.get(a, set())
                                               for a in slot.paper_ids or rundown.paper_ids))
        planned_words = sum(b.words for b in beats)  # spares stand in, they add no time
        outcomes: list[Outcome] = []
        for n, beat in enumerate(beats):
            outcomes.append(conversation.say(beat))
            if outcomes[-1].lines or beat.paper_id is None or slot.kind != "discussion":
                continue
            opener = beats[n + 1].as_opener if n + 1 < len(beats) else None
            if beat.opens and opener:
                beats[n + 1] = opener()  # the title is still to be said
            elif self.reserve.get(beat.paper_id):  # another fact fills its time
                spare = self.reserve[beat.paper_id].pop(0)
                beats.insert(n + 1, self._exchange(
                    papers[beat.paper_id], self.sheets[beat.paper_id],  # type: ignore[arg-type]
                    spare, beat.turns[-1].words, opens=beat.opens))
        return self._segment(slot, planned_words, outcomes)

    def _conversation(self, slot: Slot, system: str) -> Conversation:
        """A paper's parts share one chat, so the model remembers what was said."""
        key = (slot.kind, tuple(slot.paper_ids))
        previous = getattr(self, "_chat", None)
        if slot.kind == "discussion" and slot.part > 1 and previous and previous[0] == key:
            return previous[1]
        sampling = self.settings.llm.dialogue
        llm = None if self.llm_down else self.llm
        chat = Conversation(llm, system, sampling, self.checks,
                            retries=self.settings.writer.max_regenerations)
        self._chat = (key, chat)
        return chat

    def _segment(self, slot: Slot, planned_words: int, outcomes: list[Outcome]) -> Block:
        lines = [line for o in outcomes for line in o.lines]
        by_model = sum(o.by_model for o in outcomes)
        by_fallback = sum(o.by_fallback for o in outcomes)
        source: BlockSource = "llm" if by_model and by_model >= by_fallback else \
            "summary" if slot.kind in ("discussion", "headline", "revision", "theme") \
            else "template"
        slot.budget_s = round(min(slot.budget_s, planned_words * 60 / self.wpm), 1)
        if any(o.calls for o in outcomes) and any("LLM failed" in p for o in outcomes
                                                   for p in o.problems):
            self.llm_down = True
        return Block(slot=slot, lines=lines, source=source,
                       attempts=sum(o.calls for o in outcomes),
                       problems=[p for o in outcomes for p in o.problems],
                       model_lines=by_model, fallback_lines=by_fallback)

    # --- a paper's discussion ------------------------------------------------------------

    def paper_system(self, paper: Paper) -> str:
        sheet = self.sheets.get(paper.arxiv_id)
        return render(self.settings, "show_system.j2", station=self.station,
                      hosts=self.hosts, paper=paper, sheet=sheet, notes=as_notes,
                      short_name=self.short_name(paper))

    def short_name(self, paper: Paper) -> str:
        sheet = self.sheets.get(paper.arxiv_id)
        if sheet is not None and sheet.short_name:
            return sheet.short_name
        return short_name_of(paper.title, paper.abstract)

    def discussion(self, slot: Slot, paper: Paper) -> list[Beat]:
        """The part's exchanges: its share of the paper's topics, sized by its time."""
        sheet = self.sheets.get(paper.arxiv_id)
        if sheet is None:
            return [self._title_only(slot, paper)] if slot.part == 1 else []
        budget_words = slot.budget_s * self.wpm / 60
        per_part = max(1, round(budget_words / (ASK_WORDS + sum(ANSWER_WORDS) / 2)))
        topics = pick_topics(sheet, per_part * slot.parts)
        if slot.part == 1:  # the facts no part takes stand in for an exchange that fails
            taken = {id(t.fact) for t in topics}
            self.reserve[paper.arxiv_id] = [t for t in pick_topics(sheet, 99)
                                            if id(t.fact) not in taken]
        share = -(-len(topics) // slot.parts)
        mine = topics[(slot.part - 1) * share:slot.part * share]
        if not topics:
            return [self._title_only(slot, paper)] if slot.part == 1 else []
        if not mine:
            return []
        answer = int(min(max(budget_words / len(mine) - ASK_WORDS, ANSWER_WORDS[0]),
                         ANSWER_WORDS[1]))
        first = slot.part == 1
        return [self._exchange(paper, sheet, topic, answer, opens=first and n == 0)
                for n, topic in enumerate(mine)]

    def _exchange(self, paper: Paper, sheet: FactSheet, topic: Topic, answer_words: int,
                  *, opens: bool) -> Beat:
        name = self.short_name(paper)
        result = topic.fact if isinstance(topic.fact, Result) else None
        cue = render(self.settings, "show_beat.j2", beat=topic.name, opens=opens,
                     fact=topic.fact, notes=as_notes(topic.fact), result=result,
                     paper=paper, name=name,
                     analogy=sheet.analogy, kind=sheet.kind, asker=self.asker,
                     explainer=self.explainer)
        ask_does = ("introduces_the_paper_by_its_title_and_asks_about_" + topic.name) if opens \
            else f"reacts_and_asks_about_{topic.name}"
        ask_words = ASK_WORDS + (count_words(paper.title) + 4 if opens else 0)
        fallback = self._fallback_answer(topic.fact, name)
        must = [result.number] if result else []
        turns = [Turn(self.asker, ask_does, ask_words, must_say=[paper.title] if opens else [],
                      fallback=self._say("ask", topic.name, paper, opens=opens, name=name),
                      asks=True),
                 Turn(self.explainer, f"answers_about_{topic.name}", answer_words,
                      must_say=must, fallback=fallback)]
        source = Source("\n".join([paper.title, ", ".join(paper.authors), name, sheet.analogy,
                                   *(f.text for _, f in sheet.facts()),
                                   *(f"{r.number} {r.metric} {r.setting} {r.baseline}"
                                     for r in sheet.results),
                                   sheet.passage_text(topic.fact.passages)]))
        return Beat(name=topic.name, cue=cue, turns=turns, source=source,
                    paper_id=paper.arxiv_id, section=SECTION[topic.name],
                    page=sheet.page_of(topic.fact), opens=opens, paired=True,
                    as_opener=None if opens else partial(
                        self._exchange, paper, sheet, topic, answer_words, opens=True))

    def _fallback_answer(self, fact: Fact, name: str) -> str:
        """The fact in the explainer's mouth: its sentence (the model's own words from the
        fact sheet), or, for a result whose sentence copies the paper, its parts; not a bare
        number ("the number to remember is 4.5", written in a bench show, says nothing)."""
        if not fact.copied:
            return third_person(fact.text)
        if isinstance(fact, Result) and fact.metric:
            said = " ".join(part for part in (
                f"For {name}, the number to remember is {fact.number}", fact.metric,
                f"on {fact.setting}" if fact.setting else "",
                f"compared with {fact.baseline}" if fact.baseline else "") if part)
            return said + "."
        return ""

    def _title_only(self, slot: Slot, paper: Paper) -> Beat:
        """A paper nothing is known of yet: its title and authors, no more."""
        authors = paper.authors[0] + (" and colleagues" if len(paper.authors) > 1 else "") \
            if paper.authors else "its authors"
        text = self._say("title_only", "", paper, authors=authors)
        return Beat(name="title_only", cue="", turns=[Turn(
            self.asker, "names_the_paper", count_words(text), fallback=text)],
            source=Source(f"{paper.title}\n{', '.join(paper.authors)}"),
            paper_id=paper.arxiv_id, section=None)

    # --- the show's own moments ----------------------------------------------------------

    def show_beats(self, slot: Slot, rundown: Rundown, papers: dict[str, Paper],
                   before: Slot | None, after: Slot | None) -> list[Beat]:
        words = slot.budget_s * self.wpm / 60
        if slot.kind == "intro":
            return [self._intro(rundown, papers, words)]
        if slot.kind == "outro":
            return [self._outro(rundown, papers)]
        if slot.kind == "transition":
            nxt = papers.get(after.paper_ids[0]) if after and after.paper_ids else None
            prev = papers.get(before.paper_ids[0]) if before and before.paper_ids else None
            return [self._transition(prev, nxt, after)]
        if slot.kind == "theme":
            return self._theme(slot, papers, words)
        return [self._headline(slot, papers[slot.paper_ids[0]], words)]

    def _show_beat(self, beat: str, turns: list[Turn], facts: list[str], **context: object
                   ) -> Beat:
        cue = render(self.settings, "show_beat.j2", beat=beat, asker=self.asker,
                     explainer=self.explainer, **context)
        return Beat(name=beat, cue=cue, turns=turns, source=Source("\n".join(facts)))

    def _intro(self, rundown: Rundown, papers: dict[str, Paper], words: float) -> Beat:
        day = date.fromisoformat(rundown.date)
        spoken_date = f"{day:%A}, {day.day} {day:%B %Y}"
        covered = [papers[a] for a in rundown.paper_ids if a in papers]
        names = [self.short_name(p) for p in covered[:4]]
        hooks = [self._hook(p) for p in covered[:3]]
        welcome = self._say("welcome", "", None, title=rundown.title, station=self.station,
                            asker=self.asker, explainer=self.explainer)
        preview = self._say("preview", "", None, count=len(covered), names=names)
        turns = [Turn(self.asker, "welcomes_listeners_names_the_show_and_both_hosts",
                      max(int(words * 0.45), 12), fallback=welcome, introduces=True),
                 Turn(self.explainer, "teases_the_papers_coming_up", max(int(words * 0.55), 14),
                      fallback=preview)]
        return self._show_beat("intro", turns, [rundown.title, spoken_date, str(len(covered)),
                                                *names, *hooks, *(p.title for p in covered)],
                               title=rundown.title, date=spoken_date, names=names,
                               hooks=hooks, count=len(covered), station=self.station)

    def _hook(self, paper: Paper) -> str:
        """The paper in one sentence: why it matters, else its idea; else its title."""
        sheet = self.sheets.get(paper.arxiv_id)
        fact = sheet and (sheet.why_it_matters or sheet.key_idea or sheet.problem)
        return fact.text if fact else paper.title

    def _outro(self, rundown: Rundown, papers: dict[str, Paper]) -> Beat:
        covered = [papers[a] for a in rundown.paper_ids if a in papers]
        names = [self.short_name(p) for p in covered]
        hooks = [self._hook(p) for p in covered]
        known = [(n, sentence(third_person(h))) for n, h, p in zip(names, hooks, covered,
                                                                  strict=True)
                 if self.sheets.get(p.arxiv_id)]
        recap = self._say("recap", "", None, items=known,
                          rest=[n for n in names if n not in dict(known)])
        turns = [Turn(self.explainer, "recaps_every_paper_in_one_sentence_each",
                      max(12 * len(covered), 14), must_say=names, fallback=recap),
                 Turn(self.asker, "thanks_listeners_and_signs_off", 16,
                      fallback=self._say("goodbye", "", None, title=rundown.title),
                      introduces=True)]
        return self._show_beat("outro", turns, [rundown.title, *names, *hooks,
                                                *(p.title for p in covered)],
                               names=names, hooks=hooks, title=rundown.title,
                               station=self.station)

    def _transition(self, prev: Paper | None, nxt: Paper | None, after: Slot | None) -> Beat:
        """The explainer links the paper just discussed to the next (or to the headlines)."""
        speaker = self._not_thrice(self.explainer)
        if nxt is None or after is None:
            return self._show_beat("transition", [], [])
        next_name = self.short_name(nxt)
        facts = [nxt.title, next_name, self._hook(nxt)]
        if prev is not None:
            facts += [prev.title, self.short_name(prev), self._hook(prev)]
        link = after.kind == "discussion" and prev is not None
        text = self._say("bridge", "", nxt, name=next_name, headlines=after.kind == "headline")
        turn = Turn(speaker, "links_the_last_paper_to_the_next" if link
                    else "says_what_comes_next", 22 if link else 12,
                    must_say=[next_name] if link else [], fallback=text)
        return self._show_beat("transition", [turn], facts, link=link, headlines=after.kind
                               == "headline", prev=prev, nxt=nxt, prev_hook=self._hook(prev)
                               if prev else "", next_hook=self._hook(nxt), name=next_name,
                               prev_name=self.short_name(prev) if prev else "")

    def _headline(self, slot: Slot, paper: Paper, words: float) -> Beat:
        sheet = self.sheets.get(paper.arxiv_id)
        reader = self._not_thrice(self._other(self._last_speaker()))
        other = self._other(reader)
        name = self.short_name(paper)
        idea = sheet.key_idea if sheet else None
        detail = (sheet.results[0] if sheet and sheet.results else
                  sheet.why_it_matters if sheet else None)
        facts = [paper.title, name, ", ".join(paper.authors)]
        if sheet:
            facts += [text for _, f in sheet.facts()
                      for text in (f.text, sheet.passage_text(f.passages))]
            facts += [f"{r.number} {r.metric} {r.setting} {r.baseline}" for r in sheet.results]
        announce = self._say("headline", "", paper, revision=slot.kind == "revision") + (
            " " + self._fallback_answer(idea, name) if idea else "")
        turns = [Turn(reader, "reads_the_title_and_what_the_paper_does",
                      max(int(words * 0.6), count_words(paper.title) + 8),
                      must_say=[paper.title], fallback=announce)]
        if detail is not None and words > 30:
            must = [detail.number] if isinstance(detail, Result) else []
            turns.append(Turn(other, "adds_one_concrete_detail", max(int(words * 0.4), 12),
                              must_say=must, fallback=self._fallback_answer(detail, name)))
        return Beat(name=slot.kind, cue=render(
            self.settings, "show_beat.j2", beat="headline", paper=paper, name=name,
            idea=idea, detail=detail, revision=slot.kind == "revision", asker=reader,
            explainer=other), turns=turns, source=Source("\n".join(facts)),
            paper_id=paper.arxiv_id, section="results" if detail else None)

    def _theme(self, slot: Slot, papers: dict[str, Paper], words: float) -> list[Beat]:
        """The theme named, then each of its papers in one exchange that links it to the
        one before."""
        members = [papers[a] for a in slot.paper_ids if a in papers]
        each = max(int(words / max(len(members), 1)) - ASK_WORDS, ANSWER_WORDS[0])
        beats = []
        for n, paper in enumerate(members):
            sheet = self.sheets.get(paper.arxiv_id)
            name = self.short_name(paper)
            facts = [paper.title, name, slot.focus or "", self._hook(paper)]
            if sheet:
                facts += [f.text for _, f in sheet.facts()]
            prev = members[n - 1] if n else None
            turns = [Turn(self.asker, "introduces_the_theme_and_asks_about_the_first_paper"
                          if n == 0 else "asks_how_the_next_paper_relates", ASK_WORDS,
                          fallback=self._say("theme_ask", "", paper, theme=slot.focus,
                                             first=n == 0, name=name), asks=True),
                     Turn(self.explainer, "explains_the_paper_and_its_link_to_the_theme", each,
                          fallback=self._say("theme_paper", "", paper, hook=third_person(
                              self._hook(paper)) if sheet else ""))]
            beats.append(Beat(name="theme", cue=render(
                self.settings, "show_beat.j2", beat="theme", theme=slot.focus or slot.title,
                paper=paper, name=name, hook=self._hook(paper), first=n == 0,
                prev_name=self.short_name(prev) if prev else "", asker=self.asker,
                explainer=self.explainer), turns=turns, source=Source("\n".join(facts)),
                paper_id=paper.arxiv_id))
        return beats

    # --- speakers and phrasings ----------------------------------------------------------

    def _last_speaker(self) -> str | None:
        return self.spoken[-1].speaker if self.spoken else None

    def _other(self, speaker: str | None) -> str:
        return self.explainer if speaker == self.asker else self.asker

    def _not_thrice(self, speaker: str) -> str:
        """Nobody speaks three lines in a row, across segments too."""
        last = [line.speaker for line in self.spoken[-2:]]
        return self._other(speaker) if last == [speaker, speaker] else speaker

    def _say(self, role: str, topic: str, paper: Paper | None, **context: object) -> str:
        """A fallback phrasing from prompts/fallback_lines.j2 (names and titles only)."""
        pick = variant(role, topic, paper.arxiv_id if paper else "", len(self.spoken))
        return " ".join(render(self.settings, "fallback_lines.j2", role=role, topic=topic,
                               paper=paper, variant=pick, **context).split())


def paper_text(store: Store, data: DataRoot, arxiv_id: str) -> tuple[str, dict | None]:
    """The paper's extracted text and sections, if the pdf stage left them."""
    import json

    stored = store.text_artifacts(arxiv_id)
    folder = data.paper_dir(arxiv_id)
    text = ""
    for path in [*(data.resolve(p) for p in stored), folder / "text.txt"]:
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


def write_show(settings: Settings, store: Store, data: DataRoot, llm: LLM | None,
               request: ShowRequested, ranker: Ranker | None = None) -> Script:
    return ShowWriter(settings, store, data, llm, ranker).write(request)
