"""Voiced lines for playout tests: real corpus sentences spoken by flite (or espeak-ng).

The sentences come from arXiv abstracts in the shared corpus (arXiv metadata is CC0);
each one becomes a WAV under the data root and a SegmentVoiced naming it, the way the
tts worker leaves them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import soundfile as sf

from radio.artifacts import DataRoot
from radio.messages import SegmentVoiced
from radio.store import Store

ATOM = "{http://www.w3.org/2005/Atom}"
ABSTRACTS = ("api/id_1605.08386.xml", "api/id_astro-ph_0601001.xml",
             "api/id_quant-ph_0201082v1.xml", "api/id_list_0808.05394_1707.08567.xml")


def corpus_papers(corpus: Path) -> list[dict]:
    """id, title, authors and abstract of real papers in the corpus' API recordings."""
    papers = []
    for name in ABSTRACTS:
        root = ET.parse(corpus / name).getroot()
        for entry in root.iter(f"{ATOM}entry"):
            raw_id = entry.findtext(f"{ATOM}id") or ""
            arxiv_id = re.sub(r"^.*/abs/|v\d+$", "", raw_id)
            papers.append({
                "arxiv_id": arxiv_id,
                "title": " ".join((entry.findtext(f"{ATOM}title") or "").split()),
                "authors": [a.findtext(f"{ATOM}name") for a in entry.iter(f"{ATOM}author")],
                "abstract": " ".join((entry.findtext(f"{ATOM}summary") or "").split()),
            })
    return papers


def sentences(corpus: Path, count: int, max_words: int = 24) -> list[tuple[str, str]]:
    """(arxiv_id, sentence) pairs: short, plain sentences from the abstracts."""
    found = []
    for paper in corpus_papers(corpus):
        for sentence in re.split(r"(?<=[.!?])\s+", paper["abstract"]):
            words = sentence.split()
            if 6 <= len(words) <= max_words and "$" not in sentence:
                found.append((paper["arxiv_id"], sentence))
    if len(found) < count:
        raise RuntimeError(f"the corpus gave {len(found)} sentences, {count} wanted")
    return found[:count]


def speak(text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if shutil.which("flite"):
        command = ["flite", "-voice", "slt", "-t", text, "-o", str(path)]
    else:
        command = ["espeak-ng", "-v", "en-us", "-w", str(path), text]
    subprocess.run(command, check=True, capture_output=True, timeout=120)


def add_paper(store: Store, paper: dict, licence_url: str | None) -> None:
    store.upsert_paper(paper["arxiv_id"], 1, title=paper["title"], authors=paper["authors"],
                       abstract=paper["abstract"], categories=[], licence_url=licence_url,
                       source="api")


def _json(value: object) -> str:
    import json

    return json.dumps(value)


def voice_show(data: DataRoot, show_id: str, lines: list[tuple[str | None, str]],
               speakers: tuple[str, ...] = ("Alex", "Mira"), pause_s: float = 0.3,
               ) -> list[SegmentVoiced]:
    """Speak each line into shows/<id>/audio/NNNN.wav (with its pause) and describe it."""
    segments = []
    for seq, (paper_id, text) in enumerate(lines):
        path = data.show_dir(show_id) / "audio" / f"{seq:04d}.wav"
        speak(text, path)
        audio, rate = sf.read(path, dtype="float32")
        audio = np.concatenate([audio, np.zeros(int(pause_s * rate), np.float32)])
        sf.write(path, audio, rate, subtype="PCM_16")
        segments.append(SegmentVoiced(
            show_id=show_id, seq=seq, total=len(lines), audio=data.artifact(path),
            duration_s=audio.size / rate, speaker=speakers[seq % len(speakers)], text=text,
            paper_id=paper_id, page=1 if paper_id else None, last=seq == len(lines) - 1))
    return segments


def longest_silence(pcm: np.ndarray, rate: int, threshold_db: float = -50.0,
                    window_s: float = 0.05) -> float:
    """Longest run, in seconds, of windows quieter than `threshold_db` RMS."""
    window = int(window_s * rate)
    frames = pcm[: pcm.size // window * window].reshape(-1, window).astype(np.float64)
    quiet = 20 * np.log10(np.sqrt((frames ** 2).mean(axis=1)) + 1e-12) < threshold_db
    longest = run = 0
    for is_quiet in quiet:
        run = run + 1 if is_quiet else 0
        longest = max(longest, run)
    return longest * window_s


def pdf_paper(corpus: Path, name: str, count: int) -> tuple[dict, list[str]]:
    """A corpus PDF's metadata (MANIFEST) and `count` plain sentences from its first pages."""
    import csv

    import pymupdf

    with (corpus / "MANIFEST.tsv").open() as handle:
        row = next(r for r in csv.DictReader(handle, delimiter="\t") if r["file"] == name)
    arxiv_id = re.sub(r"v\d+$", "", row["arxiv_id"])
    with pymupdf.open(corpus / name) as doc:
        text = " ".join(doc[i].get_text() for i in range(min(2, doc.page_count)))
    found = []
    for sentence in re.split(r"(?<=[.!?])\s+", " ".join(text.split())):
        words = sentence.split()
        if 8 <= len(words) <= 22 and re.fullmatch(r"[A-Za-z0-9 ,.;:()'-]+", sentence):
            found.append(sentence)
    if len(found) < count:
        raise RuntimeError(f"{name}: {len(found)} plain sentences, {count} wanted")
    paper = {"arxiv_id": arxiv_id, "title": row["title"], "authors": [],
             "abstract": " ".join(found[:3])}
    return paper, found[:count]
