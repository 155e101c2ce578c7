"""tts: voices a written script line by line, each host with their own voice.

Consumes `shows/written` (ShowWritten), produces `audio/voiced` (SegmentVoiced), one per
line, in order, as soon as that line is voiced: playout can start before the whole show
is. Each line is normalized for its engine, synthesized in a thread, trimmed, levelled,
resampled to `tts.sample_rate` mono with the pause that follows it, and written
atomically to `shows/<show_id>/audio/NNNN.wav`, recorded in `segments`, then published.

A line a voice fails on is retried with `tts.fallback_voice`; if that fails too the line
becomes a pause and an error report: the show never stops on one line. A redelivered
show re-voices nothing that is already on disk with the same speaker and text; it only
re-publishes those segments (same ids, so downstream deduplicates them).

Breaking news (a ShowWritten of kind news) opens with a "just in" sting: three rising
chimes before its first line, in the same segment, so it airs wherever that line airs.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from radio.artifacts import InvalidId
from radio.backends.tts import NothingToSay, Voice, load_voice, say, validate_voices
from radio.config import Settings
from radio.messages import Artifact, Message, SegmentVoiced, ShowWritten
from radio.shows.script import Line, Script, load_script
from radio.speech.audio import finish_line, write_audio
from radio.worker import Context, PermanentError, Worker


@dataclass
class Voiced:
    """One line on disk, and what went wrong on the way, if anything."""

    path: Path
    duration_s: float
    voice: str | None
    problems: list[str] = field(default_factory=list)


class TtsWorker(Worker[ShowWritten]):
    name = "tts"
    preload = ("scipy.signal", "piper")

    @classmethod
    def heavy_modules(cls, settings: Settings) -> tuple[str, ...]:
        """Kokoro's G2P (misaki, spaCy) imports torch: only for a station with a Kokoro voice."""
        voices = [h.voice for h in settings.writer.hosts] + [settings.tts.fallback_voice]
        kokoro = any(v.startswith("kokoro:") for v in voices)
        return cls.preload + (("kokoro_onnx", "misaki.en") if kokoro else ())
    consumes = (ShowWritten,)
    produces = (SegmentVoiced,)

    def __init__(self, ctx: Context, instance: str | None = None) -> None:
        super().__init__(ctx, instance)
        self.hosts: dict[str, str] = {}  # host name -> voice name, once validated
        self.fallback_voice = ctx.settings.tts.fallback_voice
        self._voices: dict[str, Voice] = {}
        self._lock = threading.Lock()  # voices load in worker threads
        self.lines_voiced = 0
        self.lines_in_fallback_voice = 0

    async def setup(self) -> None:
        # An unknown voice is a configuration error: fail at start-up, not mid-show.
        self.hosts = validate_voices(self.settings)

    async def background(self) -> None:
        """Load the hosts' models before the first show asks for them."""
        for name in dict.fromkeys([*self.hosts.values(), self.fallback_voice]):
            try:
                await asyncio.to_thread(self._voice, name)
            except Exception as exc:  # reported when a line needs it; the fallback covers
                self.log.warning("voice %s does not load: %s", name, exc)

    def status_detail(self) -> dict:
        return {"voices": self.hosts, "fallback": self.fallback_voice,
                "lines_voiced": self.lines_voiced, "fallbacks": self.lines_in_fallback_voice}

    async def handle(self, message: ShowWritten) -> None:
        lines = self._read_script(message).lines
        if not lines:
            raise PermanentError(f"{message.show_id}: the script has no lines")
        self._forget_beyond(message.show_id, len(lines))
        for seq, line in enumerate(lines):
            done = self._existing(message.show_id, seq, line)
            if done is None:
                pause = self._pause_after(lines, seq)
                sting = message.kind == "news" and seq == 0
                done = await asyncio.to_thread(self._voice_line, message.show_id, seq, line,
                                               pause, sting)
                self._record(message.show_id, seq, line, done)
                for problem in done.problems:
                    await self.report_error(ShowWritten.TOPIC, f"{message.show_id}#{seq}",
                                            problem)
            await self.publish(self._segment(message.show_id, seq, len(lines), line, done))
        self.store.mark_show_voiced(message.show_id)

    def pending(self, topic: str, since: str) -> list[Message]:
        """Lines voiced, from the store and the scripts (radio/recovery.py)."""
        found: list[Message] = []
        for show_id in self.store.shows_since(("written", "voiced", "recorded"), since):
            try:
                lines = load_script(self.data, show_id).lines
            except (InvalidId, OSError, ValueError):
                continue
            for seq, line in enumerate(lines):
                done = self._existing(show_id, seq, line)
                if done is not None:
                    found.append(self._segment(show_id, seq, len(lines), line, done))
        return found

    # --- the script --------------------------------------------------------------------

    def _read_script(self, message: ShowWritten) -> Script:
        try:
            path = self.data.verify(message.script)
        except ValueError as exc:  # checksum mismatch: the script was rewritten since
            raise PermanentError(f"{message.show_id}: {exc}") from exc
        try:
            return Script.model_validate_json(path.read_bytes())
        except ValueError as exc:
            raise PermanentError(f"{message.show_id}: bad script: {exc}"[:1000]) from exc

    def _pause_after(self, lines: list[Line], seq: int) -> float:
        tts = self.settings.tts
        last = seq == len(lines) - 1
        if last or lines[seq + 1].speaker != lines[seq].speaker:
            return tts.pause_between_speakers_s
        return tts.pause_same_speaker_s

    # --- voicing (runs in a thread) ------------------------------------------------------

    def _voice(self, name: str) -> Voice:
        with self._lock:
            if name not in self._voices:
                self._voices[name] = load_voice(name, self.settings)
            return self._voices[name]

    def _synthesize(self, line: Line) -> tuple[np.ndarray, int, str | None, list[str]]:
        """Audio for a line: the host's voice, else the fallback, else nothing."""
        problems = []
        wanted = self.hosts.get(line.speaker)
        if wanted is None:
            problems.append(f"speaker {line.speaker!r} has no voice; using {self.fallback_voice}")
        for name in dict.fromkeys([wanted or self.fallback_voice, self.fallback_voice]):
            try:
                audio, rate = say(self._voice(name), line.text)
                return audio, rate, name, problems
            except NothingToSay:
                return np.zeros(0, np.float32), self.settings.tts.sample_rate, None, problems
            except Exception as exc:
                problems.append(f"{name} failed on a line: {type(exc).__name__}: {exc}"[:500])
                self.log.warning("%s", problems[-1])
        return np.zeros(0, np.float32), self.settings.tts.sample_rate, None, problems

    def _voice_line(self, show_id: str, seq: int, line: Line, pause_s: float,
                    sting: bool = False) -> Voiced:
        audio, rate, voice, problems = self._synthesize(line)
        tts = self.settings.tts
        audio = finish_line(audio, rate, tts.sample_rate, pause_s)
        if sting:
            audio = np.concatenate([just_in_sting(tts.sample_rate), audio])
        path = self._audio_path(show_id, seq)
        write_audio(path, audio, tts.sample_rate, tts.audio_format)
        self.lines_voiced += 1
        self.lines_in_fallback_voice += voice not in (self.hosts.get(line.speaker), None)
        return Voiced(path, audio.size / tts.sample_rate, voice, problems)

    def _audio_path(self, show_id: str, seq: int) -> Path:
        suffix = self.settings.tts.audio_format
        return self.data.show_dir(show_id) / "audio" / f"{seq:04d}.{suffix}"

    # --- the store ---------------------------------------------------------------------

    def _existing(self, show_id: str, seq: int, line: Line) -> Voiced | None:
        """The line's segment if it is already voiced, with this speaker and text."""
        row = self.store.segment(show_id, seq)
        if row is None or row["audio_path"] is None or row["duration_s"] is None:
            return None
        path = self.data.resolve(row["audio_path"])
        if (row["speaker"], row["text"]) != (line.speaker, line.text) or not path.is_file():
            return None
        if path != self._audio_path(show_id, seq):  # the format setting changed
            return None
        return Voiced(path, row["duration_s"], None)

    def _record(self, show_id: str, seq: int, line: Line, done: Voiced) -> None:
        artifact = self.data.artifact(done.path)
        with self.store.transaction() as t:
            t.record_segment(show_id, seq, line.speaker, line.text, line.paper_id,
                             artifact.path, done.duration_s)
            t.record_artifact(artifact, "segment", show_id)

    def _forget_beyond(self, show_id: str, total: int) -> None:
        """A rewritten, shorter script leaves no stale lines behind."""
        rows = self.store.segments(show_id, from_seq=total)
        for row in rows:
            if row["audio_path"]:
                self.data.resolve(row["audio_path"]).unlink(missing_ok=True)
        if rows:
            self.store.delete_segments_from(show_id, total)

    def _segment(self, show_id: str, seq: int, total: int, line: Line,
                 done: Voiced) -> SegmentVoiced:
        audio: Artifact = self.data.artifact(done.path)
        return SegmentVoiced(
            show_id=show_id, seq=seq, total=total, audio=audio, duration_s=done.duration_s,
            speaker=line.speaker, text=line.text, paper_id=line.paper_id,
            section=line.section, page=line.page, last=seq == total - 1)


STING_NOTES_HZ = (784.0, 1047.0, 1319.0)  # G5, C6, E6: rising, a "just in" cue


def just_in_sting(rate: int, note_s: float = 0.16, tail_s: float = 0.35) -> np.ndarray:
    """Three rising chimes (a tone and its octave, each dying away), then a short breath."""
    t = np.arange(int(note_s * 2.5 * rate)) / rate
    out = np.zeros(int((note_s * (len(STING_NOTES_HZ) - 1) + t[-1] + tail_s) * rate) + 1,
                   np.float32)
    for i, hz in enumerate(STING_NOTES_HZ):
        chime = (np.sin(2 * np.pi * hz * t) + 0.3 * np.sin(4 * np.pi * hz * t)) \
            * np.exp(-t * 9.0) * np.minimum(1.0, t * 400)  # no click at the attack
        start = int(i * note_s * rate)
        out[start:start + len(chime)] += chime.astype(np.float32)
    return (0.35 * out / np.abs(out).max()).astype(np.float32)
