"""A fact sheet per paper: the small, checked facts a show is written from.

The summarizer asks the model once, under a JSON schema, for the paper's kind, a short
spoken name, the problem, why it is hard, the key idea (with an everyday analogy), up to
three results (number, unit, dataset or setting, baseline), one limitation and why it
matters. Every fact names the numbered passages it rests on ([1] is the abstract).

What the model says is then checked here, not trusted: a fact whose numbers and names are
not in the passages it cites is re-cited to the passage that holds them, or dropped; a
result whose number is in no passage is dropped (a survey gets no invented number); a
fact that copies twelve words of the paper is kept as data for the writer but marked, so
the fallback never reads it aloud.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, Field

from radio.understanding.chunks import Chunk, clean, sentences
from radio.understanding.grounding import Source, check_line, number_value

PaperKind = Literal["method", "dataset", "benchmark", "survey", "position", "theory",
                    "system"]
KINDS: tuple[str, ...] = PaperKind.__args__  # type: ignore[attr-defined]
COPY_RUN = 12  # words in a row from the paper that make a line a copy
MAX_RESULTS = 3
_WORDS = re.compile(r"[a-z0-9]+")
_RESULT_CUES = re.compile(
    r"\b(?:outperform\w*|improv\w*|achiev\w*|reach\w*|accuracy|error|score\w*|better|"
    r"faster|higher|lower|than|state of the art|state-of-the-art|total\w*|contain\w*|"
    r"compris\w*|consist\w*|reduc\w*|increas\w*)\b|%", re.I)
_NONE = re.compile(r"^(?:none|n/?a|null|not (?:given|stated|mentioned|applicable)|-+|unknown)"
                   r"\.?$", re.I)  # how a model fills a field it has nothing for
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


class Passage(BaseModel):
    """A numbered piece of the paper the fact sheet may cite."""

    n: int
    text: str
    section: str | None = None
    chunk: int | None = Field(None, description="Chunk index; None for the abstract.")
    page: int | None = Field(None, description="Page of the PDF it starts on.")


class Fact(BaseModel):
    text: str
    passages: list[int] = Field(default_factory=list, description="Passage numbers cited.")
    copied: bool = Field(False, description="Holds a run of 12+ words of the paper.")


class Result(Fact):
    number: str = Field(description="The headline number as the paper writes it.")
    metric: str = ""
    setting: str = Field("", description="Dataset, benchmark or setting.")
    baseline: str = Field("", description="What it is compared with, and its number.")


PLAIN_FACTS = ("problem", "why_hard", "key_idea", "limitation", "why_it_matters")  # the
# sheet's facts besides its results


class FactSheet(BaseModel):
    kind: PaperKind = "method"
    short_name: str
    problem: Fact | None = None
    why_hard: Fact | None = None
    key_idea: Fact | None = None
    analogy: str = ""
    results: list[Result] = Field(default_factory=list)
    limitation: Fact | None = None
    why_it_matters: Fact | None = None
    passages: list[Passage] = Field(default_factory=list)

    def page_of(self, fact: Fact) -> int | None:
        """The page of the body the fact rests on (not the abstract's first page)."""
        pages = [p.page for p in self.passages if p.n in fact.passages and p.chunk is not None]
        return next((page for page in pages if page), None)

    def passage_text(self, numbers: list[int]) -> str:
        wanted = set(numbers)
        return "\n".join(p.text for p in self.passages if p.n in wanted)

    def facts(self) -> list[tuple[str, Fact]]:
        """Every fact with its name, in the order a conversation takes them."""
        named: list[tuple[str, Fact | None]] = [
            ("problem", self.problem), ("why_hard", self.why_hard),
            ("key_idea", self.key_idea), *(("result", r) for r in self.results),
            ("limitation", self.limitation), ("why_it_matters", self.why_it_matters)]
        return [(name, fact) for name, fact in named if fact is not None]


# --- the model's side: schema and wire names ----------------------------------------------

_FACT = {"type": "object", "properties": {
    "fact": {"type": "string", "minLength": 10, "maxLength": 200},
    "passages": {"type": "array", "items": {"type": "integer"}, "minItems": 1,
                 "maxItems": 3}},
    "required": ["fact", "passages"], "additionalProperties": False}
_RESULT = {"type": "object", "properties": {
    "finding_with_its_number": {"type": "string", "minLength": 10, "maxLength": 180},
    "metric_or_unit": {"type": "string", "maxLength": 40},
    "dataset_or_setting": {"type": "string", "maxLength": 80},
    "compared_with": {"type": "string", "maxLength": 120},
    "passages": {"type": "array", "items": {"type": "integer"}, "minItems": 1, "maxItems": 2}},
    "required": ["finding_with_its_number", "metric_or_unit", "dataset_or_setting",
                 "compared_with", "passages"], "additionalProperties": False}
# Keys that say what they want: a small model reads each key as it writes its value.
WIRE = {"kind": "kind_of_paper", "short_name": "short_name_the_paper_uses",
        "problem": "problem_it_tackles_in_your_own_words",
        "why_hard": "why_that_is_hard_in_your_own_words",
        "key_idea": "key_idea_explained_simply_to_a_friend",
        "analogy": "everyday_analogy_for_the_idea",
        "results": "main_results_each_with_its_number",
        "limitation": "one_real_limitation_in_your_own_words",
        "why_it_matters": "why_it_matters_to_a_listener_in_one_short_sentence"}
FACTS_SCHEMA: dict = {
    "type": "object",
    "properties": {
        WIRE["kind"]: {"type": "string", "enum": list(KINDS)},
        WIRE["short_name"]: {"type": "string", "minLength": 2, "maxLength": 40},
        # Results early, while the passages are fresh: a small model that writes them last
        # tends to give none, or its summary sentence again.
        WIRE["results"]: {"type": "array", "items": _RESULT, "maxItems": MAX_RESULTS},
        WIRE["problem"]: _FACT, WIRE["why_hard"]: _FACT, WIRE["key_idea"]: _FACT,
        WIRE["analogy"]: {"type": "string", "maxLength": 200},
        WIRE["limitation"]: _FACT, WIRE["why_it_matters"]: _FACT,
    },
    "required": list(WIRE.values()),
    "additionalProperties": False,
}


def number_passages(abstract: str, chunks: list[Chunk]) -> list[Passage]:
    """[1] the abstract, then the chunks in the paper's order."""
    opening = clean(abstract)
    out = [Passage(n=1, text=opening, section="abstract")] if opening else []
    out += [Passage(n=len(out) + i, text=c.text, section=c.section, chunk=c.index, page=c.page)
            for i, c in enumerate(chunks, start=1)]
    return out


# --- checking what the model wrote ---------------------------------------------------------


def _words(text: str) -> list[str]:
    return _WORDS.findall(text.lower())


def runs_of(text: str, n: int = COPY_RUN) -> set[tuple[str, ...]]:
    """Every run of `n` words of a text, to look copies up in."""
    words = _words(text)
    return set(zip(*(words[i:] for i in range(n)), strict=False))


def copy_run(text: str, original: str | set[tuple[str, ...]], n: int = COPY_RUN) -> str | None:
    """The first run of `n` words of `text` found verbatim in `original`, if any."""
    words = _words(text)
    if len(words) < n:
        return None
    theirs = runs_of(original, n) if isinstance(original, str) else original
    for i in range(len(words) - n + 1):
        if tuple(words[i:i + n]) in theirs:
            return " ".join(words[i:i + n])
    return None


def numbers_in(text: str) -> set[float]:
    values = (number_value(m.group()) for m in _NUMBER.finditer(text))
    return {v for v in values if v is not None}


class SheetBuilder:
    """Turns the model's JSON into a checked FactSheet for one paper."""

    def __init__(self, title: str, authors: list[str], passages: list[Passage],
                 paper_text: str) -> None:
        self.title, self.authors, self.passages = title, authors, passages
        self.by_n = {p.n: p for p in passages}
        self.paper_text = paper_text
        self.paper_runs = runs_of(paper_text)  # every check of a copy looks them up
        self.dropped: list[str] = []

    def build(self, data: dict) -> FactSheet:
        sheet = FactSheet(
            kind=data[WIRE["kind"]] if data.get(WIRE["kind"]) in KINDS else "method",
            short_name=self.short_name(str(data.get(WIRE["short_name"], ""))),
            analogy=self._analogy(str(data.get(WIRE["analogy"], ""))),
            passages=self.passages)
        seen: set[str] = set()  # results first: a measured fact beats its restatement
        for raw in data.get(WIRE["results"], [])[:MAX_RESULTS]:
            result = self.result(raw)
            if result is not None and self._new(result.text, seen, "result"):
                sheet.results.append(result)
        if not sheet.results and sheet.kind not in ("survey", "position"):
            sheet.results = [r for r in self.stated_results() if self._new(r.text, seen, "result")]
        for field in PLAIN_FACTS:
            fact = self.fact(field, data.get(WIRE[field]))
            if fact is not None and self._new(fact.text, seen, field):
                setattr(sheet, field, fact)
        return sheet

    def restated(self, fact: Fact, text: str) -> Fact | None:
        """The fact in the model's own words, where they pass the fact's checks: whole
        sentences, no 12 words of the paper, about the same thing, grounded in the same
        passages, and a result still says its number. None leaves the fact as it was."""
        text = _whole_sentences(text)
        if len(text.split()) < 5 or copy_run(text, self.paper_runs) is not None \
                or not same_gist(text, fact.text) or not self._supports(text, fact.passages):
            return None
        if isinstance(fact, Result) and not numbers_in(fact.number) <= numbers_in(text):
            return None
        return fact.model_copy(update={"text": text, "copied": False})

    def stated_results(self, count: int = 2) -> list[Result]:
        """The paper's own sentences that state a measured result, when the model gave
        none: data for the writer, who must say them in other words (they are copies)."""
        found: list[tuple[int, Result]] = []
        for passage in self.passages:
            for sentence in sentences(passage.text):
                numbers = headline_numbers(sentence)
                cues = len(_RESULT_CUES.findall(sentence))
                if numbers and cues and 8 <= len(sentence.split()) <= 45:
                    found.append((cues, Result(text=sentence, passages=[passage.n],
                                               number=numbers[0], copied=True)))
        found.sort(key=lambda item: -item[0])
        return [result for _, result in found[:count]]

    def _new(self, text: str, seen: set[str], field: str) -> bool:
        """A fact said twice (the model repeats itself under a schema) counts once."""
        mark = " ".join(_words(text))
        if mark in seen or any(mark in s or s in mark for s in seen):
            self.dropped.append(f"{field}: repeats another fact")
            return False
        seen.add(mark)
        return True

    def short_name(self, name: str) -> str:
        return short_name_of(self.title, self.paper_text, name)

    def _analogy(self, text: str) -> str:
        """An analogy is the model's own picture, not a claim: it may name no number and no
        name the paper does not have."""
        text = _whole_sentences(text)
        if len(text.split()) < 5 or not self._supports(text, list(self.by_n)):
            return ""
        return text

    def _source(self, cited: list[int], extra: str = "") -> Source:
        body = "\n".join(self.by_n[n].text for n in cited if n in self.by_n)
        return Source(f"{self.title}\n{', '.join(self.authors)}\n{body}\n{extra}")

    def _supports(self, text: str, cited: list[int]) -> bool:
        return check_line(text, self._source(cited)).ok

    def _cite(self, text: str, cited: list[int]) -> list[int] | None:
        """The passages that support `text`: the cited ones if they do, else the first
        passage that does, else all those it needs together; None when none support it."""
        cited = [n for n in dict.fromkeys(cited) if n in self.by_n]
        if cited and self._supports(text, cited):
            return cited
        for passage in self.passages:
            if self._supports(text, [passage.n]):
                return [passage.n]
        return list(self.by_n) if self.by_n and self._supports(text, list(self.by_n)) else None

    def fact(self, field: str, raw: object) -> Fact | None:
        if not isinstance(raw, dict):
            return None
        text = _whole_sentences(str(raw.get("fact", "")))
        if not text:
            return None
        cited = self._cite(text, [int(n) for n in raw.get("passages", []) if isinstance(n, int)])
        if cited is None:
            self.dropped.append(f"{field}: {text}")
            return None
        return Fact(text=text, passages=cited,
                    copied=copy_run(text, self.paper_runs) is not None)

    def result(self, raw: object) -> Result | None:
        """A result stands only if its finding states a number that is in the passages it
        cites (or in one that is then cited instead), and the finding is grounded there."""
        if not isinstance(raw, dict):
            return None
        finding = _whole_sentences(str(raw.get("finding_with_its_number", "")))
        cited = [int(n) for n in raw.get("passages", []) if isinstance(n, int)]
        order = [n for n in dict.fromkeys([*cited, *self.by_n]) if n in self.by_n]
        found = next(((number, n) for number in headline_numbers(finding) for n in order
                      if numbers_in(number) <= numbers_in(self.by_n[n].text)), None)
        if found is None:
            self.dropped.append(f"result without a number the passages hold: {finding}")
            return None
        number, passage = found
        cite = [passage]
        if not self._supports(finding, cite):
            self.dropped.append(f"result finding not in passage {passage}: {finding}")
            return None

        def grounded(key: str) -> str:
            value = " ".join(str(raw.get(key, "")).split())
            empty = not value or _NONE.match(value)
            return value if not empty and self._supports(value, cite) else ""

        return Result(text=finding, passages=cite, number=number,
                      metric=grounded("metric_or_unit"), setting=grounded("dataset_or_setting"),
                      baseline=grounded("compared_with"),
                      copied=copy_run(finding, self.paper_runs) is not None)


_MEASURE = re.compile(
    r"(?<![\w.\[])(\d[\d,]*(?:\.\d+)?)(\s*(?:%|x\b|×|percent\b|points?\b|(?:thousand|million|"
    r"billion|trillion)\b|[KMBT]\b|[KMGT]i?B\b))?(?![\w\]])")


def headline_numbers(text: str) -> list[str]:
    """The measurements a sentence states, as written ("627 million", "4.5", "12%"): not
    years, list numbers or citation marks."""
    out = []
    for match in _MEASURE.finditer(text):
        value, unit = number_value(match.group(1)), match.group(2)
        bare = "." not in match.group(1) and not unit
        if value is None or (bare and (1900 <= value <= 2100 or value < 10)):
            continue  # a year, or a count too small to be a headline ("1." of a list)
        out.append(match.group(0).strip())
    return out


def short_name_of(title: str, text: str, proposed: str = "") -> str:
    """What a paper is called after its full title has been said once: the proposed name
    if the title or the paper's opening has it as whole words (as the paper writes it),
    else the title's head before a colon, else the acronym the paper defines for it, else
    the title's first words."""
    name = " ".join(proposed.split()).strip(" .")
    opening = f"{title}\n{text[:8000]}"
    head = title.split(":")[0].strip()
    prefix = title.lower().startswith(name.lower()) and name.lower() != head.lower() \
        and len(name.split()) > 1  # the title's first words, cut short: no name
    short = name and not prefix and (len(name.split()) <= 3 or name.lower() == head.lower())
    found = re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", opening, re.I) \
        if short else None  # four words of a long title are no name
    if found:
        return found.group()
    if len(head.split()) <= 4:
        return head
    return defined_acronym(opening, head) or _first_words(head, 3)


_DEFINED = re.compile(r"((?:[A-Za-z][\w-]*\s+){1,6})\(([A-Z][A-Za-z0-9]*[A-Z][A-Za-z0-9]*)s?\)")


def defined_acronym(text: str, title: str) -> str | None:
    """The acronym a text defines for the head of its title, as "Retrieval-Augmented
    Generation (RAG)" for "Retrieval-Augmented Generation for Large Language Models"."""
    opening_words = _words(title)[:3]
    for match in _DEFINED.finditer(text):
        letters = re.sub(r"[^A-Z]", "", match.group(2))
        words = _words(match.group(1))[-len(letters):]
        if len(words) == len(letters) and " ".join(words) in " ".join(_words(title)) \
                and words[0] in opening_words:
            return match.group(2)
    return _initials_acronym(text, title)


def _initials_acronym(text: str, title: str) -> str | None:
    """An acronym the text uses that spells a run of the title's words ("AMDCN" for
    "Aggregated Multicolumn Dilated Convolution Network")."""
    initials = "".join(w[0] for w in re.split(r"[\s-]+", title) if w[:1].isupper())
    for token in dict.fromkeys(re.findall(r"\b[A-Z]{3,8}\b", text)):
        if token in initials.upper():
            return token
    return None


def _first_words(text: str, count: int) -> str:
    """The first words of a title, without a dangling "for" or "of" at the end."""
    words = text.split()[:count]
    while len(words) > 1 and words[-1].lower() in {"a", "an", "the", "of", "for", "in", "on",
                                                   "and", "with", "to", "via", "from"}:
        words.pop()
    return " ".join(words)


_PLAIN = {"about", "also", "authors", "been", "from", "have", "into", "paper", "that", "their",
          "there", "these", "they", "this", "those", "which", "with", "were", "what", "when"}


def same_gist(new: str, old: str) -> bool:
    """`new` is about what `old` is about: at least half of its content words (by their
    first five letters) are `old`'s. Asked for several facts at once, a small model was
    seen to give one fact's gist under another's name."""
    def content(text: str) -> set[str]:
        return {w[:5] for w in _words(text) if len(w) >= 4 and w not in _PLAIN}

    mine = content(new)
    return bool(mine) and 2 * len(mine & content(old)) >= len(mine)


_JOINS = {"by", "with", "and", "or", "of", "to", "for", "in", "on", "through", "using",
          "via", "that", "which", "while", "from", "as", "at", "into", "than"}


def _cut_short(cut: str) -> str:
    """A sentence cut mid-phrase, to where its phrase began: at its last comma, else before
    the last word that joins a phrase on ("... incorrect content by incorporating
    external" aired as a fact; it ends at "content"), else without its last word."""
    if "," in cut:
        return cut.rsplit(",", 1)[0]
    words = cut.split()
    for at in range(len(words) - 1, 2, -1):
        if words[at].lower() in _JOINS:
            return " ".join(words[:at])
    return " ".join(words[:-1])


def _whole_sentences(text: str) -> str:
    """Whole sentences only, on one line: a value cut at its length cap loses its tail; a
    single sentence that was cut is cut short (`_cut_short`): its last word may be cut too
    ("... with many challenges and o." reached a summary)."""
    kept = sentences(" ".join(text.split()))
    if kept and kept[-1][-1:] not in ".!?":
        kept = kept[:-1] if len(kept) > 1 else [_cut_short(kept[0]).rstrip(",;: ") + "."]
    return " ".join(kept)
