"""Intelligibility: every default host voice, through the tts worker, heard by Whisper.

Each host reads the same four sentences of a corpus abstract (HalluCiteChecker,
2604.26835: plain technical English with AI, NLP, CPUs in it; the sentences that name
the invented tool are left out, since no recognizer can spell it). The voiced segments,
exactly as playout gets them, are transcribed by Whisper tiny.en (faster-whisper,
offline) and must come back with a word error rate of at most 0.15.
"""

from __future__ import annotations

import pytest

from radio.artifacts import DataRoot
from radio.config import Settings
from radio.speech.asr import transcribe, wer
from tests.support.harness import running_worker
from tests.support.voices import Paper, make_script, voice_show

MAX_WER = 0.15


@pytest.mark.slow
async def test_every_default_host_voice_is_understood(settings: Settings, paper: Paper) -> None:
    text = " ".join(paper.sentences[1:5])
    hosts = {host.name: host.voice for host in Settings().writer.hosts}  # the defaults
    script = make_script("intelligibility", paper, [(name, text) for name in hosts])
    async with running_worker("tts", settings) as worker:
        segments, _ = await voice_show(settings, script, timeout=400)
        assert worker.lines_in_fallback_voice == 0  # each host spoke in their own voice
    data = DataRoot(settings.data_dir)
    scores = {}
    for segment in segments:
        heard = transcribe(data.resolve(segment.audio))
        scores[hosts[segment.speaker]] = (wer(text, heard), heard)
    print({voice: round(score, 3) for voice, (score, _) in scores.items()})
    assert set(scores) == {"piper:joe", "hibari:heart"}
    for voice, (score, heard) in scores.items():
        assert score <= MAX_WER, f"{voice}: WER {score:.3f}; heard: {heard}"


def test_wer_counts_word_edits() -> None:
    assert wer("the cat sat on the mat", "the cat sat on the mat") == 0.0
    assert wer("the cat sat on the mat", "the cat sat on a mat") == pytest.approx(1 / 6)
    assert wer("the cat sat", "cat sat down there") == pytest.approx(3 / 3)
    # Spoken forms compare equal: digits, symbols and spelled acronyms.
    assert wer("LLMs cut errors by 58% on GPT-4", "L.L.M.'s cut errors by fifty-eight percent "
               "on G P T four") == 0.0
