"""TTS benchmark: real-time factor and intelligibility per voice, and for a whole show.

Script lines are sentences from corpus abstracts (a recorded arXiv API response in
../shared/corpus). For each voice: load time, RTF (synthesis seconds per second of
audio, after one warm-up line), measured words per minute, and the WER of a Whisper
tiny.en round trip on the voiced segments. Then a short show (default hosts, as the
tts worker voices it: normalize, synthesize, trim, level, resample, write) gives the
show RTF and the time to its first segment. Pinned to 2 cores. Prints JSON.

    .venv/bin/python scripts/bench_tts.py [--voices piper:joe,flite:slt] [--no-wer]
    .venv/bin/python scripts/bench_tts.py --dialogue --no-show   # hosts' lines about papers

--dialogue reads DIALOGUE instead: lines as the hosts say them about real papers, with
the acronyms, brand names, big numbers, units, citations and asides that abstracts have.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from radio.artifacts import parse_arxiv_id
from radio.backends.tts import load_voice, say
from radio.config import Settings
from radio.shows.script import Line
from radio.speech.asr import transcribe, wer, words
from radio.speech.audio import finish_line, write_audio
from radio.worker import Context

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
FEED = CORPUS / "api" / "cat_csLG_OR_csAI_max20_2026-04-30.xml"
PAPERS = ["2604.26835", "2604.26880", "2604.26904"]
VOICES = ["piper:joe", "hibari:heart", "kokoro:jf_alpha", "kokoro:jm_kumo", "flite:slt",
          "flite:rms", "espeak:en-us+m3"]
# Lines in the shape the hosts say them. The TabLib figures are its abstract's (2310.07875);
# the rest are reading material (numbers, units, asides, citations), not claims.
DIALOGUE = [
    "Next up: TabLib, a dataset of 627M tables with context, about 69 TiB of raw data.",
    "They pulled those 627 million tables from GitHub and Common Crawl (Eggert et al., 2023).",
    "That's the kind of scale GPT-4 saw, but for tables rather than text.",
    "So what does an LLM actually do with 867B tokens of context?",
    "The survey covers LLMs in strategic reasoning [3, 5]: games, negotiation and economics.",
    "Say a 1.5B model gained 12.5% on table QA: would a 7B one gain more?",
    "Think of 0.6B and 7B variants, and a 2-3x speed-up on CPU/GPU.",
    "An LLM that plays poker (and bluffs) at a 58% win rate would be news.",
]


def abstracts() -> dict[str, tuple[str, list[str]]]:
    out = {}
    for entry in feedparser.parse(str(FEED)).entries:
        arxiv_id, _ = parse_arxiv_id(entry.id)
        if arxiv_id in PAPERS:
            text = " ".join(entry.summary.split())
            out[arxiv_id] = (" ".join(entry.title.split()),
                             re.split(r"(?<=[.!?])\s+(?=[A-Z])", text))
    return out


def bench_voice(name: str, settings: Settings, sentences: list[str], out: Path,
                with_wer: bool) -> dict:
    started = time.perf_counter()
    voice = load_voice(name, settings)
    say(voice, "Warming up.")
    loaded = time.perf_counter() - started
    synth_s = audio_s = 0.0
    spoken_words = 0
    refs, hyps = [], []
    for n, sentence in enumerate(sentences):
        t = time.perf_counter()
        audio, rate = say(voice, sentence)
        synth_s += time.perf_counter() - t
        audio_s += audio.size / rate
        spoken_words += len(words(sentence))
        path = write_audio(out / f"{name.replace(':', '_')}-{n}.wav",
                           finish_line(audio, rate, settings.tts.sample_rate, 0.2),
                           settings.tts.sample_rate)
        if with_wer:
            refs.append(sentence)
            hyps.append(transcribe(path))
    result = {"load_s": round(loaded, 2), "audio_s": round(audio_s, 1),
              "rtf": round(synth_s / audio_s, 3),
              "words_per_minute": round(spoken_words * 60 / audio_s)}
    if with_wer:
        result["wer"] = round(wer(" ".join(refs), " ".join(hyps)), 3)
        worst = max(zip(refs, hyps, strict=True), key=lambda rh: wer(*rh))
        result["worst_line"] = {"said": worst[0], "heard": worst[1]}
    return result


def bench_show(settings: Settings, papers: dict[str, tuple[str, list[str]]]) -> dict:
    """A short show through the tts worker's own line path (no bus)."""
    from radio.workers.tts import TtsWorker

    alex, mira = (host.name for host in settings.writer.hosts)
    lines = [Line(speaker=alex, text="Welcome to Paper Radio, the newest AI papers on arXiv.")]
    for arxiv_id, (title, sentences) in papers.items():
        lines.append(Line(speaker=alex, text=f"Next up: {title}.", paper_id=arxiv_id))
        lines += [Line(speaker=mira, text=s, paper_id=arxiv_id) for s in sentences[:2]]
        lines.append(Line(speaker=alex, text=sentences[-1], paper_id=arxiv_id))
    lines.append(Line(speaker=mira, text="That is all for today. Thanks for listening."))
    worker = TtsWorker(Context.from_settings(settings), "bench")
    asyncio.run(worker.setup())
    for name in dict.fromkeys(worker.hosts.values()):
        worker._voice(name)  # loaded outside the timing, as a running worker has them
    audio_s, first = 0.0, None
    started = time.perf_counter()
    for seq, line in enumerate(lines):
        done = worker._voice_line("bench-show", seq, line, 0.3)
        audio_s += done.duration_s
        first = first or time.perf_counter() - started
    synth_s = time.perf_counter() - started
    return {"voices": worker.hosts, "lines": len(lines), "audio_s": round(audio_s, 1),
            "synthesis_s": round(synth_s, 1), "rtf": round(synth_s / audio_s, 3),
            "first_segment_s": round(first or 0.0, 2), "fallbacks": worker.lines_in_fallback_voice}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voices", default=",".join(VOICES))
    parser.add_argument("--sentences", type=int, default=6,
                        help="Abstract sentences per voice (the first few of each paper).")
    parser.add_argument("--no-wer", action="store_true", help="Skip the Whisper round trip.")
    parser.add_argument("--no-show", action="store_true", help="Skip the whole-show run.")
    parser.add_argument("--dialogue", action="store_true",
                        help="Read the hosts' DIALOGUE lines instead of abstract sentences.")
    args = parser.parse_args()
    cores = sorted(os.sched_getaffinity(0))[:2]
    os.sched_setaffinity(0, cores)
    papers = abstracts()
    per_paper = max(1, args.sentences // len(papers))
    sentences = [s for _, (_, ss) in papers.items() for s in ss[:per_paper]]
    if args.dialogue:
        sentences = DIALOGUE
    with tempfile.TemporaryDirectory(prefix="bench-tts-") as tmp:
        settings = Settings(data_dir=Path(tmp) / "data")
        report: dict = {"cores": len(cores), "cpu_count": os.cpu_count(),
                        "sample_rate": settings.tts.sample_rate,
                        "sentences": len(sentences), "voices": {}}
        for name in args.voices.split(","):
            report["voices"][name] = bench_voice(name, settings, sentences, Path(tmp),
                                                 not args.no_wer)
            print(f"{name}: {report['voices'][name]}", file=sys.stderr)
        if not args.no_show:
            report["show"] = bench_show(settings, papers)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
