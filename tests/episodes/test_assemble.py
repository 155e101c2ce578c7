"""The episode's files, checked with the tools a listener's software uses."""

from __future__ import annotations

import io
import itertools
import json
import math
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile
import webvtt
from mutagen.id3 import ID3
from PIL import Image

from radio.episodes.assemble import LEAD_S, AssemblyError, Segment, assemble, lay_out
from radio.episodes.stings import sting
from tests.support.episodes import SHOW_TITLE, Recorded


def ffprobe(path: Path, *args: str) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *args, str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def voice_rate(recorded: Recorded) -> int:
    return max(soundfile.info(recorded.ctx.data.resolve(m.audio)).samplerate
               for m in recorded.messages)


def expected_chapter_starts(recorded: Recorded) -> dict[str, float]:
    """Where each paper's first line must start: intro sting, lead, then every line before."""
    rate = voice_rate(recorded)
    position = len(sting(rate)) / rate + LEAD_S
    starts: dict[str, float] = {}
    for message in recorded.messages:
        if message.paper_id:
            starts.setdefault(message.paper_id, position)
        info = soundfile.info(recorded.ctx.data.resolve(message.audio))
        position += math.ceil(info.frames * rate / info.samplerate) / rate
    return starts


@pytest.mark.slow
def test_ffprobe_lists_one_chapter_per_paper_at_the_right_times(recorded: Recorded) -> None:
    chapters = sorted(ffprobe(recorded.episode.paths.mp3, "-show_chapters")["chapters"],
                      key=lambda c: float(c["start_time"]))
    titles = {p.arxiv_id: p.title for p in recorded.papers}
    expected = expected_chapter_starts(recorded)
    assert len(chapters) == len(recorded.papers) == len(expected)
    for chapter, (paper_id, start) in zip(chapters, expected.items(), strict=True):
        assert chapter["tags"]["title"] == titles[paper_id]
        assert float(chapter["start_time"]) == pytest.approx(start, abs=0.002)
    for earlier, later in itertools.pairwise(chapters):
        assert float(earlier["end_time"]) == pytest.approx(float(later["start_time"]))


def test_loudness_is_minus_16_lufs_and_true_peak_under_minus_1(recorded: Recorded) -> None:
    log = subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostats", "-i", str(recorded.episode.paths.mp3),
         "-filter_complex", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True, text=True, check=True).stderr
    summary = log[log.rfind("Summary:"):]
    integrated = float(re.search(r"I:\s+(-?[\d.]+) LUFS", summary).group(1))
    true_peak = float(re.search(r"True peak:\s+Peak:\s+(-?[\d.]+) dBFS", summary).group(1))
    assert abs(integrated - (-16.0)) <= 1.0
    assert true_peak <= -1.0
    assert recorded.episode.loudness_lufs == pytest.approx(integrated, abs=0.05)


def test_mp3_is_44k1_at_the_configured_bitrate(recorded: Recorded) -> None:
    probe = ffprobe(recorded.episode.paths.mp3, "-show_streams", "-show_format")
    audio = next(s for s in probe["streams"] if s["codec_type"] == "audio")
    assert audio["codec_name"] == "mp3"
    assert int(audio["sample_rate"]) == 44100
    assert int(audio["bit_rate"]) == 128000
    assert float(probe["format"]["duration"]) == pytest.approx(recorded.episode.duration_s,
                                                               abs=0.1)


def test_id3_tags_carry_title_show_date_cover_and_toc(recorded: Recorded) -> None:
    tags = ID3(recorded.episode.paths.mp3)
    assert tags.version[:2] == (2, 3)
    assert str(tags["TIT2"]) == SHOW_TITLE
    assert str(tags["TALB"]) == recorded.settings.feed.title
    assert str(tags["TDRC"]) == "2026-04-30"
    cover = Image.open(io.BytesIO(tags.getall("APIC")[0].data))
    assert cover.format == "PNG" and cover.width == cover.height
    assert 1400 <= cover.width <= 3000
    toc = tags.getall("CTOC")[0]
    chaps = {c.element_id: c for c in tags.getall("CHAP")}
    starts = [chaps[i].start_time for i in toc.child_element_ids]
    assert len(starts) == len(recorded.papers) and starts == sorted(starts)


def seconds(timestamp: str) -> float:
    """webvtt-py's *_in_seconds are whole seconds: parse HH:MM:SS.mmm here."""
    hours, minutes, secs = timestamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(secs)


def test_transcript_parses_with_speaker_voices_covering_the_audio(recorded: Recorded) -> None:
    captions = webvtt.read(str(recorded.episode.paths.transcript)).captions
    assert [c.voice for c in captions] == [line.speaker for line in recorded.lines]
    assert [c.text for c in captions] == [line.text for line in recorded.lines]
    spans = [(seconds(c.start), seconds(c.end)) for c in captions]
    for (start, end), (next_start, _) in itertools.pairwise(spans):
        assert start < end <= next_start
    spoken = sum(m.duration_s for m in recorded.messages)
    assert sum(end - start for start, end in spans) == pytest.approx(spoken, abs=0.002 * len(spans))
    intro_s = len(sting(voice_rate(recorded))) / voice_rate(recorded)
    assert spans[0][0] == pytest.approx(intro_s + LEAD_S, abs=0.002)
    outro_s = recorded.episode.duration_s - spans[-1][1]
    assert outro_s == pytest.approx(intro_s + LEAD_S, abs=0.002)


def test_chapters_json_matches_the_id3_chapters(recorded: Recorded) -> None:
    data = json.loads(recorded.episode.paths.chapters.read_text())
    assert data["version"] == "1.2.0"
    probe = sorted(ffprobe(recorded.episode.paths.mp3, "-show_chapters")["chapters"],
                   key=lambda c: float(c["start_time"]))
    assert [c["title"] for c in data["chapters"]] == [c["tags"]["title"] for c in probe]
    for ours, theirs in zip(data["chapters"], probe, strict=True):
        assert ours["startTime"] == pytest.approx(float(theirs["start_time"]), abs=0.002)
    assert [c["url"] for c in data["chapters"]] == [
        f"https://arxiv.org/abs/{p.arxiv_id}" for p in recorded.papers]


def test_stings_are_deterministic_bounded_and_end_in_silence() -> None:
    intro = sting(24000)
    assert np.array_equal(intro, sting(24000))
    assert not np.array_equal(intro, sting(24000, rising=False))
    assert np.max(np.abs(intro)) == pytest.approx(0.5, abs=1e-3)
    assert np.max(np.abs(intro[-10:])) < 1e-3


def test_voices_at_different_rates_are_laid_out_at_the_highest(tmp_path: Path) -> None:
    tone = np.sin(2 * np.pi * 220 * np.arange(16000) / 16000).astype(np.float32) * 0.3
    soundfile.write(tmp_path / "a.wav", tone, 16000)  # 1 s at 16 kHz
    soundfile.write(tmp_path / "b.wav", np.repeat(tone, 3)[:24000 * 2], 24000)  # 2 s at 24 kHz
    segments = [Segment(0, tmp_path / "a.wav", "Alex", "one"),
                Segment(1, tmp_path / "b.wav", "Mira", "two")]
    audio, cues, rate = lay_out(segments, gap_s=0.5)
    assert rate == 24000
    assert cues[0].end_s - cues[0].start_s == pytest.approx(1.0)
    assert cues[1].start_s - cues[0].end_s == pytest.approx(0.5)
    assert cues[1].end_s - cues[1].start_s == pytest.approx(2.0)
    assert len(audio) / rate == pytest.approx(cues[1].end_s + LEAD_S + len(sting(rate)) / rate)


def test_unreadable_segment_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "0000.wav"
    bad.write_bytes(b"RIFF not really a wave")
    with pytest.raises(AssemblyError, match=r"unreadable audio 0000\.wav"):
        assemble([Segment(0, bad, "Alex", "hello")], tmp_path / "out.mp3")
    assert not (tmp_path / "out.mp3").exists()
