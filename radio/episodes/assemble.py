"""From voiced lines to a loudness-normalized mp3.

The episode is laid out in memory, mono float32 at the voices' own rate (the highest
of them, if they differ): intro sting, every line in seq order, outro sting. Placing
the lines ourselves gives exact start and end times for the transcript and chapters.
Loudness is set with pyloudnorm to the target (-16 LUFS); in one ffmpeg run
`alimiter` keeps the true peak under -1 dBTP, the audio is resampled to 44.1 kHz, and
libmp3lame encodes. The mp3 is measured with ffmpeg's `ebur128` and, if the limiter
moved it, encoded again with a corrected gain.
"""

from __future__ import annotations

import logging
import math
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import soundfile

from radio.audio import UnreadableAudio, read_mono
from radio.episodes.stings import sting

if TYPE_CHECKING:  # scipy (via pyloudnorm) costs seconds of import: load it when used
    import pyloudnorm

log = logging.getLogger(__name__)

MP3_RATE = 44100
TRUE_PEAK_MAX_DB = -1.0
LOUDNESS_TOLERANCE_LU = 0.3  # aim well inside the ±1 LU promise
LOUDNESS_MAX_OFF_LU = 1.0
STING_UNDER_SPEECH_LU = 4.0  # stings sit a little under the voices
LEAD_S = 0.4  # silence between a sting and the voices


class AssemblyError(RuntimeError):
    """The segments cannot be made into an episode (unreadable audio, ffmpeg failed)."""


@dataclass(frozen=True)
class Segment:
    """One voiced line of a show, as the tts worker recorded it."""

    seq: int
    audio: Path
    speaker: str
    text: str
    paper_id: str | None = None


@dataclass(frozen=True)
class EpisodeCue:
    """A segment placed on the episode's timeline."""

    segment: Segment
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float
    true_peak_db: float


@dataclass(frozen=True)
class Assembled:
    mp3: Path
    cues: list[EpisodeCue]
    duration_s: float
    loudness: Loudness


def read_voiced(path: Path, rate: int) -> np.ndarray:
    """A voiced segment as mono float32 at `rate`, or an AssemblyError that names it."""
    try:
        return read_mono(path, rate)
    except UnreadableAudio as exc:
        raise AssemblyError(str(exc)) from exc


def layout_rate(segments: list[Segment]) -> int:
    """The rate to lay out at: the voices' own (the highest, if they differ)."""
    rates = []
    for segment in segments:
        try:
            rates.append(soundfile.info(segment.audio).samplerate)
        except (soundfile.LibsndfileError, RuntimeError) as exc:
            raise AssemblyError(f"unreadable audio {segment.audio.name}: {exc}") from exc
    return max(rates)


def lay_out(segments: list[Segment], *, gap_s: float = 0.0,
            rate: int | None = None) -> tuple[np.ndarray, list[EpisodeCue], int]:
    """Concatenate stings and lines; return the audio, where each line sits, and the rate."""
    rate = rate or layout_rate(segments)
    voices = [read_voiced(s.audio, rate) for s in segments]
    intro, outro = _stings_for(voices, rate)
    gap = np.zeros(int(gap_s * rate), np.float32)
    lead = np.zeros(int(LEAD_S * rate), np.float32)
    parts: list[np.ndarray] = [intro, lead]
    cues: list[EpisodeCue] = []
    position = len(intro) + len(lead)
    for index, (segment, voice) in enumerate(zip(segments, voices, strict=True)):
        if index:
            parts.append(gap)
            position += len(gap)
        parts.append(voice)
        cues.append(EpisodeCue(segment, position / rate, (position + len(voice)) / rate))
        position += len(voice)
    parts += [lead, outro]
    return np.concatenate(parts), cues, rate


def _stings_for(voices: list[np.ndarray], rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Intro and outro stings, matched in loudness to the speech they frame."""
    import pyloudnorm

    intro, outro = sting(rate, rising=True), sting(rate, rising=False)
    meter = pyloudnorm.Meter(rate)
    speech_lufs = _loudness(meter, np.concatenate(voices)) if voices else float("-inf")
    sting_lufs = _loudness(meter, intro)
    if math.isfinite(speech_lufs) and math.isfinite(sting_lufs):
        gain = 10 ** ((speech_lufs - STING_UNDER_SPEECH_LU - sting_lufs) / 20)
        intro, outro = intro * gain, outro * gain
    return intro.astype(np.float32), outro.astype(np.float32)


def _loudness(meter: pyloudnorm.Meter, audio: np.ndarray) -> float:
    if len(audio) < meter.rate * 0.5:  # pyloudnorm needs at least one 400 ms block
        return float("-inf")
    return float(meter.integrated_loudness(audio))


def encode_mp3(audio: np.ndarray, rate: int, target: Path, *, target_lufs: float,
               bitrate: str, attempts: int = 3) -> Loudness:
    """Normalize, limit and encode; re-encode with a corrected gain if the result is off."""
    import pyloudnorm

    meter = pyloudnorm.Meter(rate)
    loudness = _loudness(meter, audio)
    if not math.isfinite(loudness):
        raise AssemblyError("the episode is silent: nothing to normalize")
    gain_db = target_lufs - loudness
    limit_db = TRUE_PEAK_MAX_DB - 0.5  # sample-peak ceiling; true peaks and mp3 add a little
    with tempfile.TemporaryDirectory(prefix="episode-") as tmp:
        wav = Path(tmp) / "episode.wav"
        soundfile.write(wav, audio, rate, subtype="FLOAT")
        for attempt in range(1, attempts + 1):
            _ffmpeg_encode(wav, target, gain_db=gain_db, limit_db=limit_db, bitrate=bitrate)
            measured = measure_loudness(target)
            log.info("encode %d: gain %+.2f dB limit %.2f dBFS -> %.2f LUFS, %.2f dBTP",
                     attempt, gain_db, limit_db, measured.integrated_lufs,
                     measured.true_peak_db)
            off_lu = target_lufs - measured.integrated_lufs
            over_db = measured.true_peak_db - TRUE_PEAK_MAX_DB
            if abs(off_lu) <= LOUDNESS_TOLERANCE_LU and over_db <= 0:
                return measured
            gain_db += off_lu  # the limiter took some loudness: give it back
            if over_db > 0:
                limit_db -= over_db + 0.2
    if abs(off_lu) <= LOUDNESS_MAX_OFF_LU and over_db <= 0:
        return measured  # inside the promise, if not inside our aim
    raise AssemblyError(f"loudness not reached after {attempts} encodes: "
                        f"{measured.integrated_lufs:.2f} LUFS, {measured.true_peak_db:.2f} dBTP")


def _ffmpeg_encode(wav: Path, target: Path, *, gain_db: float, limit_db: float,
                   bitrate: str) -> None:
    limit = 10 ** (limit_db / 20)
    # alimiter: `level=disabled` keeps it from re-normalizing what pyloudnorm set. It limits
    # at four times the mp3's rate, so the peaks between samples (true peaks) are limited
    # too: at the mp3's own rate a lower ceiling left them where they were (seen: -0.80 dBTP
    # at every ceiling from -1.5 to -1.9 dBFS on a show voiced by hibari and Piper).
    filters = (f"volume={gain_db:.3f}dB,aresample={4 * MP3_RATE},"
               f"alimiter=limit={limit:.4f}:attack=5:release=50:level=disabled")
    run_ffmpeg(["-i", str(wav), "-af", filters, "-ac", "1", "-ar", str(MP3_RATE),
                "-c:a", "libmp3lame", "-b:a", bitrate, "-map_metadata", "-1",
                "-write_xing", "1", "-id3v2_version", "0", "-f", "mp3", str(target)])


def run_ffmpeg(args: list[str]) -> str:
    """Run ffmpeg with an argument list (never a shell); return its log (stderr)."""
    command = ["ffmpeg", "-hide_banner", "-nostdin", "-y", *args]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise AssemblyError(f"ffmpeg failed ({result.returncode}): {result.stderr[-800:]}")
    return result.stderr


_INTEGRATED = re.compile(r"Integrated loudness:\s*I:\s*(-?[\d.]+|-inf) LUFS", re.S)
_TRUE_PEAK = re.compile(r"True peak:\s*Peak:\s*(-?[\d.]+|-inf) dBFS", re.S)


def measure_loudness(path: Path) -> Loudness:
    """Integrated loudness and true peak of a file, by ffmpeg's EBU R128 meter."""
    output = run_ffmpeg(["-nostats", "-i", str(path), "-filter_complex", "ebur128=peak=true",
                         "-f", "null", "-"])
    summary = output[output.rfind("Summary:"):]
    integrated, peak = _INTEGRATED.search(summary), _TRUE_PEAK.search(summary)
    if not integrated or not peak:
        raise AssemblyError(f"no loudness summary from ffmpeg for {path.name}")
    return Loudness(float(integrated.group(1)), float(peak.group(1)))


def assemble(segments: list[Segment], target: Path, *, target_lufs: float = -16.0,
             bitrate: str = "128k", gap_s: float = 0.0) -> Assembled:
    """The whole episode: laid out, normalized and encoded to `target` (mp3)."""
    if not segments:
        raise AssemblyError("no segments to assemble")
    audio, cues, rate = lay_out(segments, gap_s=gap_s)
    loudness = encode_mp3(audio, rate, target, target_lufs=target_lufs, bitrate=bitrate)
    return Assembled(mp3=target, cues=cues, duration_s=len(audio) / rate, loudness=loudness)
