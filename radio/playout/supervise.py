"""An ffmpeg child fed PCM, supervised: restarted when it dies or stops taking audio.

Each audio output (`icecast`, `rtmp`, `listeners`) is an ffmpeg child fed raw PCM (s16le
mono) on stdin, started from an argument list (never a shell), with its own bounded buffer
and writer thread: `feed()` never blocks the clock. A slow output drops its oldest audio; a
dead or stuck one is restarted with back-off. No secret reaches a command line (see
`icecast` and `rtmp_relay`); command lines and ffmpeg's lines are redacted before logging
all the same.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import subprocess
import threading
import time
from typing import IO, Any
from urllib.parse import quote

from radio.config import PlayoutSettings
from radio.retry import Backoff

log = logging.getLogger(__name__)

STUCK_S = 10.0  # an output that takes no audio this long is restarted
MAX_BACKOFF_S = 5.0  # a server that comes back is used again within seconds
UP_AFTER_S = 3.0  # a child that has run and taken audio this long is up
DOWN_AFTER_S = 5.0  # not up this long (a restart takes less): down, and reported


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***").replace(quote(secret, safe=""), "***")
    return text


class PcmOutput:
    """An ffmpeg child fed PCM, restarted whenever it dies or stops taking audio."""

    name = "output"
    reads_stdout = False  # True: ffmpeg's stdout is a pipe that after_start() reads

    def __init__(self, cfg: PlayoutSettings, secrets: list[str]) -> None:
        self.cfg = cfg
        self.rate = cfg.sample_rate
        self.secrets = [s for s in secrets if s]
        self.max_bytes = int(cfg.output_buffer_s * self.rate) * 2
        self.buffer: collections.deque[bytes] = collections.deque()
        self.buffered = 0
        self.cond = threading.Condition()
        self.proc: subprocess.Popen | None = None
        self.restarts = -1
        self.dropped_bytes = 0
        self.last_write = time.monotonic()
        self.started_at = time.monotonic()
        self.stuck_s = STUCK_S
        self.state = "starting"  # up, down (see `watch`)
        self.last_up = time.monotonic()
        self.errors: collections.deque[str] = collections.deque(maxlen=20)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # --- what subclasses define ----------------------------------------------------------

    def command(self) -> list[str]:
        raise NotImplementedError

    def extra_fds(self) -> tuple[int, ...]:
        return ()

    def after_start(self) -> None:
        """Close the child's ends of extra pipes, open ours."""

    def after_write(self, pcm: bytes) -> None:
        """Called after each chunk reached ffmpeg (video frames follow the audio)."""

    def close_extra(self) -> None:
        pass

    # --- the clock's side ----------------------------------------------------------------

    def feed(self, pcm: bytes) -> None:
        """Queue audio; drop the oldest past the buffer's bound. Never blocks."""
        with self.cond:
            self.buffer.append(pcm)
            self.buffered += len(pcm)
            while self.buffered > self.max_bytes:
                self.buffered -= len(dropped := self.buffer.popleft())
                self.dropped_bytes += len(dropped)
            self.cond.notify()
        proc = self.proc
        if proc and proc.poll() is None and time.monotonic() - self.last_write > self.stuck_s:
            log.warning("%s took no audio for %.0fs: restarting it", self.name, self.stuck_s)
            self.last_write = time.monotonic()
            proc.kill()

    # --- the writer thread ---------------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"playout-{self.name}",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self.cond:
            self.cond.notify_all()
        self._kill()
        if self._thread:
            self._thread.join(timeout=10)

    def restart(self) -> None:
        """Kill the child; the writer starts a fresh one."""
        self._kill()

    def _kill(self) -> None:
        proc = self.proc
        if proc and proc.poll() is None:
            # ffmpeg ignores SIGTERM while its input thread waits on stdin: EOF ends it. Closed
            # in a thread: a write blocked on a stuck ffmpeg holds the pipe until the kill.
            if proc.stdin:
                threading.Thread(target=_close_quietly, args=(proc.stdin,), daemon=True).start()
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()

    def connected(self) -> bool:
        """Whether the far end took the stream (subclasses with a server say)."""
        return True

    def is_up(self) -> bool:
        """A child that has run for a while, taking audio, and its server took it."""
        proc, now = self.proc, time.monotonic()
        return bool(proc and proc.poll() is None and self.connected()
                    and now - self.started_at >= UP_AFTER_S
                    and now - self.last_write < UP_AFTER_S)

    def watch(self) -> str | None:
        """Called about once a second: "down" or "up" when the output changed state."""
        now = time.monotonic()
        if self.is_up():
            self.last_up = now
            if self.state != "up":
                self.state = "up"
                return "up"
        elif self.state != "down" and now - self.last_up > DOWN_AFTER_S:
            self.state = "down"
            return "down"
        return None

    def status(self) -> dict[str, Any]:
        proc = self.proc
        return {"state": self.state,
                "running": bool(proc and proc.poll() is None), "restarts": max(0, self.restarts),
                "dropped_s": round(self.dropped_bytes / 2 / self.rate, 2),
                "buffered_s": round(self.buffered / 2 / self.rate, 2),
                "last_error": self.errors[-1] if self.errors else None}

    def _run(self) -> None:
        backoff = Backoff(1.0, MAX_BACKOFF_S)  # 1, 2, 4, then every 5 s
        while not self._stop.is_set():
            started = time.monotonic()
            self._serve()
            if self._stop.is_set():
                break
            if time.monotonic() - started > 60:  # it ran a good while: start over at 1 s
                backoff.reset()
            wait = backoff()
            log.warning("%s stopped (%s); restarting in %.0fs", self.name,
                        self.errors[-1] if self.errors else "no message", wait)
            self._stop.wait(wait)  # a thread: the wait ends early on stop()

    def _serve(self) -> None:
        command = self.command()
        log.info("%s: %s", self.name, redact(" ".join(command), self.secrets))
        self.restarts += 1
        try:
            stdout = subprocess.PIPE if self.reads_stdout else subprocess.DEVNULL
            self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=stdout,
                                         stderr=subprocess.PIPE, pass_fds=self.extra_fds())
        except OSError as exc:
            self.errors.append(f"cannot start ffmpeg: {exc}")
            self.close_extra()
            return
        self.started_at = time.monotonic()
        self.after_start()
        reader = threading.Thread(target=self._read_errors, args=(self.proc.stderr,),
                                  daemon=True)
        reader.start()
        self.last_write = time.monotonic()
        try:
            self._write_loop(self.proc)
        except (BrokenPipeError, ValueError, OSError) as exc:
            self.errors.append(f"pipe closed: {exc}")
        finally:
            self._kill()
            self.close_extra()
            reader.join(timeout=5)
            with self.cond:
                self.buffer.clear()  # stale by the time a new child is up
                self.buffered = 0

    def _write_loop(self, proc: subprocess.Popen) -> None:
        assert proc.stdin is not None
        while not self._stop.is_set() and proc.poll() is None:
            with self.cond:
                if not self.buffer:
                    self.cond.wait(timeout=1.0)
                    continue
                pcm = self.buffer.popleft()
                self.buffered -= len(pcm)
            proc.stdin.write(pcm)
            proc.stdin.flush()
            self.last_write = time.monotonic()
            self.after_write(pcm)

    def _read_errors(self, stream: IO[bytes]) -> None:
        for raw in stream:
            line = redact(raw.decode("utf-8", "replace").strip(), self.secrets)
            if line and self._stop.is_set():  # our own stop: ffmpeg complains, nothing's wrong
                log.debug("%s ffmpeg: %s", self.name, line[:300])
            elif line:
                self.errors.append(line[:300])
                log.warning("%s ffmpeg: %s", self.name, line[:300])


def _close_quietly(stream: IO[bytes]) -> None:
    with contextlib.suppress(OSError, ValueError):
        stream.close()


def mp3_to_stdout(cfg: PlayoutSettings) -> list[str]:
    """ffmpeg encoding the fed PCM to mp3 on its stdout (for a reader in this process)."""
    return ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
            *pcm_input(cfg.sample_rate),
            "-c:a", "libmp3lame", "-b:a", cfg.audio_bitrate, "-ar", "44100", "-ac", "2",
            "-f", "mp3", "pipe:1"]


def pcm_input(rate: int) -> list[str]:
    return ["-thread_queue_size", "1024", "-f", "s16le", "-ar", str(rate), "-ac", "1",
            "-i", "pipe:0"]
