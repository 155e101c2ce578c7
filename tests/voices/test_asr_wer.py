"""scripts/asr_wer.py: Whisper's WER per host voice, from a voiced show or an episode."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from radio.artifacts import DataRoot
from radio.backends.tts import load_voice, say
from radio.config import Settings
from radio.episodes.assemble import EpisodeCue, Segment
from radio.episodes.transcript import render_vtt
from radio.shows.script import save_script
from radio.speech.audio import finish_line, write_audio
from tests.support.voices import Paper, make_script

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "asr_wer.py"
VOICES = {"Alex": "flite:slt", "Mira": "hibari:heart"}  # the two fastest voices


def _asr_wer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("asr_wer", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["asr_wer"] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def _voiced_show(settings: Settings, paper: Paper) -> tuple[DataRoot, list[Path], list[str]]:
    """A three-line show voiced as the tts worker writes it; line 2 left unvoiced."""
    lines = [("Alex", "Welcome back to Paper Radio, where we read the newest papers on arXiv."),
             ("Mira", paper.sentences[1]),
             ("Alex", "We will skip this one.")]
    data = DataRoot(settings.data_dir)
    save_script(data, make_script("asr-check", paper, lines))
    paths = []
    for seq, (speaker, text) in enumerate(lines[:2]):
        audio, rate = say(load_voice(VOICES[speaker], settings), text)
        path = data.show_dir("asr-check") / "audio" / f"{seq:04d}.wav"
        paths.append(write_audio(path, finish_line(audio, rate, 24000, 0.3), 24000))
    return data, paths, [text for _, text in lines]


def test_vtt_cues_read_the_recorders_transcript() -> None:
    cues = [EpisodeCue(Segment(0, Path("a.wav"), "Alex", "LLMs & <tables>"), 0.4, 2.5),
            EpisodeCue(Segment(1, Path("b.wav"), "Mira", "627M  tables\nof context"), 2.5, 3661.25)]
    assert _asr_wer().vtt_cues(render_vtt(cues)) == [
        (0.4, 2.5, "Alex", "LLMs & <tables>"),
        (2.5, 3661.25, "Mira", "627M tables of context")]


def test_host_voices_from_the_command_line_or_the_settings() -> None:
    module = _asr_wer()
    assert module.host_voices("Alex=piper:joe, Mira=hibari:heart") == {
        "Alex": "piper:joe", "Mira": "hibari:heart"}
    assert module.host_voices(None) == {h.name: h.voice for h in Settings().writer.hosts}
    with pytest.raises(SystemExit, match="expected Host=backend:voice"):
        module.host_voices("Alex")


@pytest.mark.slow
def test_wer_per_voice_of_a_voiced_show_and_its_episode(paper: Paper, tmp_path: Path) -> None:
    module = _asr_wer()
    settings = Settings(data_dir=tmp_path / "data")
    data, paths, texts = _voiced_show(settings, paper)
    voices = ",".join(f"{host}={voice}" for host, voice in VOICES.items())
    report = module.main(["--show", "asr-check", "--data-dir", str(data.root),
                          "--voices", voices])
    assert report["source"]["lines_without_audio"] == [2]
    assert set(report["voices"]) == {"flite:slt", "hibari:heart"}
    for voice, entry in report["voices"].items():
        assert entry["lines"] == 1 and entry["words"] > 3, voice
        assert entry["wer"] <= 0.3, (voice, entry["worst"])
    # The same two lines as an episode: one mp3 and the WebVTT transcript beside it.
    import soundfile as sf

    audio = [sf.read(p, dtype="float32")[0] for p in paths]
    wav, mp3 = tmp_path / "episode.wav", tmp_path / "episode.mp3"
    sf.write(wav, np.concatenate(audio), 24000)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), str(mp3)], check=True)
    ends = np.cumsum([a.size / 24000 for a in audio])
    cues = [EpisodeCue(Segment(n, p, speaker, text), start, end)
            for n, (p, speaker, text, start, end)
            in enumerate(zip(paths, VOICES, texts[:2], [0.0, ends[0]], ends, strict=True))]
    mp3.with_suffix(".vtt").write_text(render_vtt(cues), encoding="utf-8")
    episode = module.main(["--episode", str(mp3), "--voices", voices])
    assert {v: e["lines"] for v, e in episode["voices"].items()} == {
        "flite:slt": 1, "hibari:heart": 1}
    assert episode["overall"]["wer"] <= 0.3
