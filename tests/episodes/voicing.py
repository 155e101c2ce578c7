"""A small show voiced with flite from real corpus papers (the tts worker's stand-in).

The papers are the newest entries of a recorded arXiv API response in the shared
corpus; each gets its title and the first sentence of its abstract, spoken by two
flite voices. The WAVs sit where the tts worker puts them (shows/<id>/audio/).
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import feedparser
import soundfile

from radio.artifacts import DataRoot, parse_arxiv_id
from radio.messages import SegmentVoiced
from radio.store import Store

CORPUS_FEED = Path("api/cat_csLG_OR_csAI_max20_2026-04-30.xml")
VOICES = {"Alex": "rms", "Mira": "slt"}


@dataclass(frozen=True)
class Paper:
    arxiv_id: str
    title: str
    sentence: str


@dataclass(frozen=True)
class Line:
    seq: int
    speaker: str
    text: str
    paper_id: str | None


def corpus_papers(corpus: Path, count: int) -> list[Paper]:
    parsed = feedparser.parse(str(corpus / CORPUS_FEED))
    papers = []
    for entry in parsed.entries:
        if "$" in entry.title:  # TeX in the title: the tts worker's normalizer is not here
            continue
        arxiv_id, _ = parse_arxiv_id(entry.id)
        abstract = " ".join(entry.summary.split())
        sentence = re.split(r"(?<=[.!?])\s", abstract, maxsplit=1)[0][:220]
        papers.append(Paper(arxiv_id, " ".join(entry.title.split()), sentence))
        if len(papers) == count:
            break
    return papers


def script_for(papers: list[Paper], *, sentences_per_paper: int = 1) -> list[Line]:
    lines = [("Alex", f"Welcome to Paper Radio. Today, {len(papers)} new papers from archive.",
              None)]
    for paper in papers:
        lines.append(("Mira", f"Next up: {paper.title}.", paper.arxiv_id))
        lines += [("Alex", paper.sentence, paper.arxiv_id)] * sentences_per_paper
    lines.append(("Mira", "That is all for today. Thanks for listening to Paper Radio.", None))
    return [Line(seq, speaker, text, paper) for seq, (speaker, text, paper) in enumerate(lines)]


def flite(text: str, voice: str, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["flite", "-voice", voice, "-t", text, "-o", str(target)], check=True,
                   capture_output=True)
    return target


def voice_show(data: DataRoot, show_id: str, lines: list[Line]) -> list[SegmentVoiced]:
    """Voice every line; return the SegmentVoiced messages the tts worker would publish."""
    messages = []
    for line in lines:
        wav = flite(line.text, VOICES[line.speaker],
                    data.show_dir(show_id) / "audio" / f"{line.seq:04d}.wav")
        messages.append(SegmentVoiced(
            show_id=show_id, seq=line.seq, total=len(lines), audio=data.artifact(wav),
            duration_s=soundfile.info(wav).duration, speaker=line.speaker, text=line.text,
            paper_id=line.paper_id, last=line.seq == len(lines) - 1))
    return messages


def store_show(store: Store, show_id: str, title: str, papers: list[Paper]) -> None:
    """The rows the fetcher and the writer would have left: papers and the show."""
    for paper in papers:
        store.ensure_paper(paper.arxiv_id, 1, title=paper.title, authors=[],
                           abstract=paper.sentence, categories=[], source="api")
    store.claim_show(show_id, "daily", "2026-04-30", "{}", title=title, status="voiced")


def store_segments(store: Store, messages: list[SegmentVoiced]) -> None:
    """The `segments` rows the tts worker records."""
    for m in messages:
        store.record_segment(m.show_id, m.seq, m.speaker, m.text, m.paper_id, m.audio.path,
                             m.duration_s)
