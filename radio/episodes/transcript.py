"""The episode's WebVTT transcript: one cue per voiced line, tagged with its speaker."""

from __future__ import annotations

from pathlib import Path

from radio.artifacts import write_atomic
from radio.episodes.assemble import EpisodeCue


def timestamp(seconds: float) -> str:
    """WebVTT time, HH:MM:SS.mmm."""
    millis = round(max(seconds, 0.0) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"


def _escape(text: str) -> str:
    """Cue text is markup: escape it, and keep it on one line (a blank line ends a cue)."""
    flat = " ".join(text.split())
    return flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_vtt(cues: list[EpisodeCue]) -> str:
    blocks = ["WEBVTT\n"]
    for number, cue in enumerate(cues, start=1):
        speaker, text = _escape(cue.segment.speaker), _escape(cue.segment.text)
        blocks.append(f"{number}\n{timestamp(cue.start_s)} --> {timestamp(cue.end_s)}\n"
                      f"<v {speaker}>{text}</v>\n")
    return "\n".join(blocks)


def write_vtt(cues: list[EpisodeCue], target: Path) -> Path:
    return write_atomic(target, render_vtt(cues))
