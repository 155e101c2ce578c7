"""The hosts' conversation: one exchange per model call, each tied to one fact, every line
checked on its own.

A `Conversation` is one running chat (persona, rules and the paper's fact sheet in the
system message, then the accepted exchanges), so the shared prefix is not processed again
(llama.cpp reuses the longest common prefix of the previous call's tokens; a server is
asked to `cache_prompt`). A `Beat` asks for one or two lines under a JSON schema whose keys
say who speaks and what the line does. Each line is checked (`LineChecks`); a line that
fails is written again in a second call, and only a line that fails twice is replaced by
the beat's fallback line, which passes the same checks or is left out.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from radio.backends.llm import LLM, LLMError
from radio.config import SamplingSettings
from radio.shows.checks import clean_text, echoes, fingerprint, line_problems
from radio.shows.script import Line, count_words
from radio.understanding.chunks import sentences
from radio.understanding.facts import copy_run, numbers_in
from radio.understanding.grounding import Source, check_line

log = logging.getLogger(__name__)

CHARS_PER_WORD = 6.0
# What a line may contain: plain spoken English, ending on a full stop, ? or !.
SPOKEN_CHARS = "[A-Za-z0-9 .,;:!?'%&+-]"
STATED_CHARS = SPOKEN_CHARS.replace("?", "")  # an answer asks nothing back
SLACK = 1.6  # a line may run this far over its words before trailing sentences are cut
_STAGE_VERBS = ("asks?|restates?|says?|explains?|teases?|answers?|gives?|names?|pushes|push|"
                "reacts?|adds?|introduces?|recaps?|thanks?|welcomes?|moves?|links?|reads?|"
                "opens?|closes?|signs?|wraps?|"
                "then|will|should|must|question|line")  # "Alex and Mira welcome ..." too
_PROGRAMME_VERBS = r"(?:opens?|closes?|signs? off|wraps? up|ends?)\b"  # said of the station
_SCRIPT_TALK = re.compile(r"\b(?:the|this) (?:first|second|next|last) line\b|"
                          r"\b(?:these|those) (?:two )?lines\b", re.I)  # "The fact for
# these two lines is that ...": the cue read back, twice in a bench's news show
# The labels of the paper's block in a cue: "Detail: TabLib could be ..." was a headline.
_CUE_LABEL = re.compile(r"^(?:Detail|Key idea|Title|Theme|Paper|Number)\s*:\s*", re.I)


@dataclass
class Turn:
    """One line a beat asks for."""

    speaker: str
    does: str  # what the line does, as a snake_case key the model reads
    words: int
    must_say: list[str] = field(default_factory=list)  # numbers or names it must contain
    fallback: str = ""  # said when the model's line fails twice; may be empty
    asks: bool = False  # a question: the grammar makes it end on "?"
    introduces: bool = False  # the welcome, where hosts may name themselves

    def key(self) -> str:
        who = re.sub(r"[^a-z0-9]+", "_", self.speaker.lower()).strip("_")
        size = "in_one_sentence" if self.words <= 20 else "in_two_sentences" \
            if self.words <= 40 else "in_three_sentences"
        return f"{who}_{self.does}_{size}"


@dataclass
class Beat:
    """One exchange: what it is about (the cue the model reads), and its lines."""

    name: str
    cue: str
    turns: list[Turn]
    source: Source  # where its numbers and names may come from
    paper_id: str | None = None
    section: str | None = None
    page: int | None = None  # the page its fact rests on
    opens: bool = False  # the first exchange about a paper (it says the title)
    paired: bool = False  # a question and its answer: one without the other is left out
    as_opener: Callable[[], Beat] | None = None  # this beat again, to open the paper

    @property
    def words(self) -> int:
        return sum(t.words for t in self.turns)


@dataclass
class LineChecks:
    """What every line of a show is checked against (also the fallback's)."""

    hosts: list[str]
    allowed: list[str]  # names anyone may say: the hosts, the station, the show
    paper_runs: set[tuple[str, ...]] = field(default_factory=set)  # the papers' 12-word
    # runs: a line must not copy one
    instructions: str = ""  # nor say the prompt back
    station: str = ""  # "Paper Radio closes with a thanks ...": narrated, as by a host
    names: list[str] = field(default_factory=list)  # titles and names echo checks ignore
    said: list[str] = field(default_factory=list)  # fingerprints of the show's lines
    titles: list[str] = field(default_factory=list)  # saying a title (or a paper's short
    # name) is neither a copy nor a repeat

    def problems(self, text: str, turn: Turn, source: Source) -> list[str]:
        found = line_problems(text)
        if not found and len(text.split()) < 3:
            found.append("too short")
        if self._narrates(text, turn):
            found.append("narrates the script")
        if turn.asks and not text.rstrip().endswith("?"):
            found.append("is no question")
        if not turn.asks and "?" in text:
            found.append("answers with a question")
        verdict = check_line(text, source, self.allowed)
        if not verdict.ok:
            found.append(f"not in the paper: {', '.join(verdict.unsupported[:5])}")
        copied = copy_run(self._untitled(text), self.paper_runs)
        if copied:
            found.append(f"copies the paper: {copied!r}")
        if self.instructions and echoes(text, self.instructions, self.names):
            found.append("repeats the instructions")
        if self._said_before(text):
            found.append("repeats an earlier line")
        found += [f"does not say {m!r}" for m in turn.must_say if not says(text, m)]
        return found


    def _narrates(self, text: str, turn: Turn) -> bool:
        """A small model writes the stage directions ("Mira teases the papers ...", "Alex
        restates the problem:") instead of the words; hosts never name themselves either,
        but in the welcome."""
        hosts = "|".join(re.escape(h) for h in self.hosts)
        if re.search(rf"\b(?:{hosts})(?:'s)? (?:{_STAGE_VERBS})\b", text) \
                or _SCRIPT_TALK.search(text) or (self.station and re.search(
                    rf"\b{re.escape(self.station)} {_PROGRAMME_VERBS}", text)):
            return True
        return not turn.introduces and re.search(rf"\b{re.escape(turn.speaker)}\b", text) \
            is not None

    def _untitled(self, text: str) -> str:
        for title in sorted(self.titles, key=len, reverse=True):
            text = re.sub(re.escape(title), " ", text, flags=re.I)
        return text

    def _mark(self, text: str) -> str:
        """What a line says besides the titles it names (a line that is little more than a
        title is compared whole)."""
        mark = fingerprint(self._untitled(text))
        return mark if len(mark.split()) >= 6 else fingerprint(text)

    def _said_before(self, text: str) -> bool:
        mark = self._mark(text)
        return any(mark == s or SequenceMatcher(None, mark, s).ratio() > 0.85
                   for s in self.said)

    def unsaid(self, text: str) -> str:
        """The sentences of `text` that no earlier line said."""
        return " ".join(s for s in sentences(text) if not self._said_before(s))

    def remember(self, text: str) -> None:
        self.said.append(self._mark(text))


def _same(a: str, b: str) -> bool:
    return SequenceMatcher(None, fingerprint(a), fingerprint(b)).ratio() > 0.7


def says(text: str, wanted: str) -> bool:
    """The line says `wanted`: a number by value, a name or title by most of its words."""
    if numbers_in(wanted) and not re.search(r"[A-Za-z]{3}", wanted):
        return numbers_in(wanted) <= numbers_in(text)
    words = set(fingerprint(wanted).split())
    return len(words & set(fingerprint(text).split())) >= 0.6 * len(words)


def trim(text: str, words: int, *, keep_last: bool = False) -> str:
    """Whole sentences only, and no more of them than the line's words allow (with slack):
    a line ends where the model ended a sentence, never in the middle of one. With
    `keep_last` the sentences go from the front instead (a question comes last)."""
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", text.strip())
    if keep_last:
        parts.reverse()
    kept = [parts[0]]
    for part in parts[1:]:
        if count_words(" ".join([*kept, part])) > words * SLACK:
            break
        kept.append(part)
    return " ".join(reversed(kept) if keep_last else kept)


def mend(text: str, turn: Turn) -> str:
    """The line in the form its turn asks for, where only the form is wrong: a question
    that runs on ends at its last question mark; an answer loses the questions it asks
    back (when enough is left); a name said twice in a row is said once; a label of the
    cue's paper block, or the speaker's own name called out first ("Alex, welcome ..."
    by Alex), goes. Each of these cost a second call and often the exchange."""
    text = re.sub(r"[.!,;:]+\?", "?", text)  # "... to help authors.?": the grammar's "?"
    for lead in (_CUE_LABEL, re.compile(rf"^{re.escape(turn.speaker)}\s*,\s*")):
        rest = lead.sub("", text, count=1)
        if rest != text and count_words(rest) >= 3:
            text = rest[:1].upper() + rest[1:]
    text = re.sub(r"\b([A-Z][\w-]*)(?::|,)?\s+\1\b", r"\1", text)  # "TabLib: TabLib: A ..."
    if turn.asks and "?" in text and not text.rstrip().endswith("?"):
        return text[:text.rindex("?") + 1]
    if not turn.asks and "?" in text:
        parts = re.split(r"(?<=[.!?])\s+", text.strip())
        kept = " ".join(p for p in parts if not p.rstrip().endswith("?"))
        if "?" not in kept and count_words(kept) >= 3:
            return kept
    return text


def schema(turns: list[Turn]) -> dict:
    """One key per line, in order; each value spoken English ending a sentence, with room
    to finish it (lines are trimmed by sentences afterwards, never cut)."""
    properties = {}
    for turn in turns:
        high = int(turn.words * CHARS_PER_WORD * 2.2 + 40)
        low = max(8, int(turn.words * CHARS_PER_WORD * 0.35))
        chars, end = (SPOKEN_CHARS, "[?]") if turn.asks else (STATED_CHARS, "[.!]")
        properties[turn.key()] = {"type": "string",
                                  "pattern": f"^{chars}{{{low},{high}}}{end}$"}
    return {"type": "object", "properties": properties, "required": list(properties),
            "additionalProperties": False}


@dataclass
class Outcome:
    """A beat as written: its lines, who wrote each, and what failed on the way."""

    lines: list[Line]
    by_model: int = 0
    by_fallback: int = 0
    calls: int = 0
    problems: list[str] = field(default_factory=list)


class Conversation:
    """One running chat: a paper's segment, or the show's own moments."""

    def __init__(self, llm: LLM | None, system: str, sampling: SamplingSettings,
                 checks: LineChecks, retries: int = 1) -> None:
        self.llm, self.sampling, self.checks, self.retries = llm, sampling, checks, retries
        self.messages: list[dict[str, str]] = [{"role": "system", "content": system}]
        self.failures = 0  # LLM errors in a row: two, and the rest is written without it

    def usable(self) -> bool:
        return self.llm is not None and self.failures < 2

    def say(self, beat: Beat) -> Outcome:
        """The beat's lines: the model's where they pass, else the fallback's where that
        passes; a line neither can say is left out."""
        self.checks.instructions = instructions_only(f"{self.messages[0]['content']}\n"
                                                     f"{beat.cue}")
        best: list[str | None] = [None] * len(beat.turns)
        outcome = Outcome(lines=[])
        attempts = 0
        while self.usable() and attempts <= self.retries and None in best:
            attempts += 1
            drafts = self._ask(beat, outcome, attempts)
            for n, (turn, text) in enumerate(zip(beat.turns, drafts, strict=False)):
                if best[n] is not None or text is None:
                    continue
                found = self.checks.problems(text, turn, beat.source)
                if any(_same(text, other) for other in drafts[:n] if other):
                    found.append("repeats the line before")
                if found:
                    outcome.problems.append(f"{beat.name} line {n + 1} try {attempts}: "
                                            + "; ".join(found))
                else:
                    best[n] = text
        chosen: list[tuple[Turn, str, bool]] = []
        for turn, text in zip(beat.turns, best, strict=True):
            if text is None and turn.fallback:
                text = clean_text(turn.fallback, self.checks.hosts)
                found = self.checks.problems(text, turn, beat.source)
                rest = self.checks.unsaid(text) if found else text  # a link may have
                if rest not in ("", text):  # said the paper's idea: the rest, checked
                    text, found = rest, self.checks.problems(rest, turn, beat.source)
                if any(_same(text, mine) for _, mine, _ in chosen):  # the model's line
                    found.append("repeats the line before")  # before it said it already
                if found:
                    outcome.problems.append(f"{beat.name} fallback refused: {'; '.join(found)}")
                else:
                    chosen.append((turn, text, False))
            elif text is not None:
                chosen.append((turn, text, True))
        if chosen and len(chosen) < len(beat.turns) and beat.paired:
            outcome.problems.append(f"{beat.name}: a line is missing, so the exchange goes")
            chosen = []  # a question without its answer (or the reverse) is worse than none
        for _, text, _ in chosen:
            self.checks.remember(text)
        outcome.by_model = sum(mine for _, _, mine in chosen)
        outcome.by_fallback = len(chosen) - outcome.by_model
        outcome.lines = [Line(speaker=t.speaker, text=text, paper_id=beat.paper_id,
                              section=beat.section, page=beat.page,
                              origin="model" if mine else "fallback")
                         for t, text, mine in chosen]
        if outcome.lines:
            self._remember(beat, [(t.key(), text) for t, text, _ in chosen])
        return outcome

    def _ask(self, beat: Beat, outcome: Outcome, attempt: int) -> list[str | None]:
        assert self.llm is not None
        cue = beat.cue if attempt == 1 else beat.cue + "\n" + _retry_note(outcome.problems)
        wanted = schema(beat.turns)
        chars = sum(int(t.words * CHARS_PER_WORD * 2.2 + 40) for t in beat.turns)
        sampling = self.sampling.model_copy(update={"max_tokens": chars // 3 + 40})
        outcome.calls += 1
        try:
            reply = self.llm.chat([*self.messages, {"role": "user", "content": cue}],
                                  sampling=sampling, schema=wanted)
            self.failures = 0
        except LLMError as exc:
            self.failures += 1
            outcome.problems.append(f"{beat.name}: LLM failed: {exc}"[:300])
            return [None] * len(beat.turns)
        try:
            data = json.loads(reply, strict=False)
        except ValueError:
            outcome.problems.append(f"{beat.name}: reply is not JSON: {reply[:120]!r}")
            return [None] * len(beat.turns)
        out: list[str | None] = []
        for turn in beat.turns:
            value = data.get(turn.key()) if isinstance(data, dict) else None
            out.append(trim(mend(clean_text(value, self.checks.hosts), turn), turn.words,
                            keep_last=turn.asks)
                       if isinstance(value, str) and value.strip() else None)
        return out

    def _remember(self, beat: Beat, lines: list[tuple[str, str]]) -> None:
        """Only accepted lines join the chat: the model builds on what went on air."""
        self.messages += [{"role": "user", "content": beat.cue},
                          {"role": "assistant", "content": json.dumps(dict(lines))}]


def instructions_only(prompt: str) -> str:
    """The prompt without its data, for checking that lines do not echo it."""
    return re.sub(r"<(paper|show)>.*?</\1>", " ", prompt, flags=re.S)


def _retry_note(problems: list[str]) -> str:
    """What the second try must avoid, in the model's terms: the names it made up, and
    that it must use its own words. Never the checks' numbers (a small model reads them
    back)."""
    made_up = sorted({c.strip() for p in problems if "not in the paper: " in p
                      for c in p.split("not in the paper: ", 1)[1].split(";")[0].split(",")})
    notes = []
    if made_up:
        notes.append(f"Not in the data, so never said: {', '.join(made_up[:8])}.")
    if any("copies the paper" in p for p in problems):
        notes.append("Say it in your own words, not the paper's.")
    if any("does not say" in p for p in problems):
        notes.append("Say the number or the title that this part is about.")
    return " ".join(notes) or "Write these lines again."
