"""A show on paper: the rundown (what goes on air, for how long) and the dialogue lines.

A show is planned first as a `Rundown` of `Slot`s (intro, paper discussions with their
time budgets, transitions, outro), then each slot is written as a `Block` of `Line`s
between named hosts.
The `Script` holds both and is stored as JSON at `shows/<show_id>/script.json`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from radio.artifacts import DataRoot, write_atomic
from radio.messages import ShowKind

BlockSource = Literal["llm", "summary", "abstract", "template", "extractive"]
SlotKind = Literal["intro", "discussion", "headline", "revision", "transition", "theme",
                   "outro"]


class Line(BaseModel):
    """One thing one host says."""

    model_config = ConfigDict(extra="forbid")
    speaker: str
    text: str
    paper_id: str | None = None
    section: str | None = Field(None, description="Part of the paper the line talks about.")
    page: int | None = Field(None, description="The PDF page the line's fact comes from: "
                             "shown on the video while it is said, where the licence allows.")
    origin: Literal["model", "fallback"] | None = Field(
        None, description="Who wrote it: the model, or the fallback's phrasings.")


class PaperRef(BaseModel):
    """A paper as the rundown needs it: who, what, and why it is here."""

    model_config = ConfigDict(extra="forbid")
    arxiv_id: str
    version: int = 1
    title: str
    score: float = 0.0


class Slot(BaseModel):
    """One item of the rundown: what it is, which papers, how long."""

    model_config = ConfigDict(extra="forbid")
    kind: SlotKind
    title: str
    papers: list[PaperRef] = []
    budget_s: float
    focus: str | None = Field(None, description="Theme label or the paper part to dwell on.")
    part: int = Field(1, description="Long discussions are written in parts: this one's number.")
    parts: int = 1

    @property
    def paper_ids(self) -> list[str]:
        return [p.arxiv_id for p in self.papers]


class Rundown(BaseModel):
    model_config = ConfigDict(extra="forbid")
    show_id: str
    kind: ShowKind
    title: str
    date: str
    length_s: int
    slots: list[Slot]

    @property
    def paper_ids(self) -> list[str]:
        return list(dict.fromkeys(pid for slot in self.slots for pid in slot.paper_ids))


class Block(BaseModel):
    """A slot as written: its lines, and how they came to be (a "segment" is one voiced
    line, in the messages, the store and the playout)."""

    model_config = ConfigDict(extra="forbid")
    slot: Slot
    lines: list[Line]
    # llm; summary or abstract: the fallback from the paper's stored summary or its cleaned
    # abstract; template: the show's own words; extractive: older scripts' paper sentences.
    source: BlockSource
    attempts: int = 0
    problems: list[str] = Field(default_factory=list, description="Checks failed on the way.")
    grounding_rate: float = 1.0
    draft_grounding: list[float] = Field(default_factory=list,
                                         description="Grounding rate of each LLM draft.")
    model_lines: int = Field(0, description="Lines the model wrote that passed the checks.")
    fallback_lines: int = Field(0, description="Lines from the fallback phrasings.")


class Script(BaseModel):
    model_config = ConfigDict(extra="forbid")
    show_id: str
    kind: ShowKind
    title: str
    date: str
    model: str
    words_per_minute: int
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    writing_s: float = 0.0
    planned_s: float = Field(0.0, description="What the blocks planned, sized by their "
                             "material (at most the length asked for).")
    rundown: Rundown
    # Scripts written before the rename store the blocks as "segments": still read.
    blocks: list[Block] = Field(validation_alias=AliasChoices("blocks", "segments"))
    problems: list[str] = Field(default_factory=list, description="Whole-show check results.")

    @property
    def lines(self) -> list[Line]:
        return [line for block in self.blocks for line in block.lines]

    @property
    def words(self) -> int:
        return sum(count_words(line.text) for line in self.lines)

    @property
    def estimated_s(self) -> float:
        return self.words * 60.0 / self.words_per_minute

    @property
    def paper_ids(self) -> list[str]:
        return self.rundown.paper_ids

    @property
    def grounding_rate(self) -> float:
        """Share of lines that passed the grounding check (weighted by lines)."""
        total = sum(len(s.lines) for s in self.blocks)
        grounded = sum(s.grounding_rate * len(s.lines) for s in self.blocks)
        return grounded / total if total else 1.0


def count_words(text: str) -> int:
    return len(text.split())


def script_path(data: DataRoot, show_id: str) -> Path:
    return data.show_dir(show_id) / "script.json"


def save_script(data: DataRoot, script: Script) -> Path:
    return write_atomic(script_path(data, script.show_id), script.model_dump_json(indent=2))


def load_script(data: DataRoot, show_id: str) -> Script:
    return Script.model_validate_json(script_path(data, show_id).read_text())


def render_text(script: Script) -> str:
    """The script as a person reads it: rundown first, then who says what."""
    minutes = script.estimated_s / 60
    out = [f"{script.title}  ({script.show_id}, {script.kind}, {script.date})",
           f"{len(script.lines)} lines, {script.words} words, about {minutes:.1f} min; "
           f"grounding {script.grounding_rate:.0%}; model {script.model}", "", "RUNDOWN"]
    for n, slot in enumerate(script.rundown.slots, start=1):
        papers = ", ".join(p.arxiv_id for p in slot.papers)
        out.append(f"{n:>3}. {slot.kind:<10} {slot.budget_s:>5.0f}s  {slot.title}"
                   + (f"  [{papers}]" if papers else ""))
    for block in script.blocks:
        slot = block.slot
        out += ["", f"== {slot.kind}: {slot.title}  ({block.source}, "
                    f"{sum(count_words(li.text) for li in block.lines)} words)"]
        for line in block.lines:
            out.append(f"{line.speaker.upper()}: {line.text}")
    return "\n".join(out) + "\n"


def render_markdown(script: Script) -> str:
    """The same for docs: a heading per block, the speaker in bold."""
    out = [f"# {script.title}", "",
           f"`{script.show_id}` · {script.kind} · {script.date} · {len(script.lines)} lines · "
           f"{script.words} words (~{script.estimated_s / 60:.1f} min) · grounding "
           f"{script.grounding_rate:.0%} · model `{script.model}` · written in "
           f"{script.writing_s:.0f} s", "", "## Rundown", ""]
    for n, slot in enumerate(script.rundown.slots, start=1):
        papers = ", ".join(f"arXiv:{p.arxiv_id}" for p in slot.papers)
        out.append(f"{n}. **{slot.kind}** ({slot.budget_s:.0f} s) {slot.title}"
                   + (f" — {papers}" if papers else ""))
    for block in script.blocks:
        out += ["", f"## {block.slot.title}", "",
                f"*{block.slot.kind}, written by: {block.source}*", ""]
        out += [f"**{line.speaker}:** {line.text}  " for line in block.lines]
    return "\n".join(out) + "\n"
