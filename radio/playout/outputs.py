"""Where the timeline goes: Icecast for listeners, RTMP video, files for OBS.

Each audio output is an ffmpeg child fed raw PCM (s16le mono) on stdin, started from an
argument list (never a shell), with its own bounded buffer and writer thread: `feed()`
never blocks the clock. A slow output drops its oldest audio; a dead or stuck one is
restarted with back-off. No secret reaches a command line: the station is Icecast's source
client itself, and ffmpeg publishes RTMP through a loopback relay that puts the stream key
in (`rtmp_relay`); command lines and ffmpeg's lines are redacted before logging all the same.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import logging
import os
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote, unquote, urlsplit

import httpx

from radio import __version__
from radio.artifacts import write_atomic
from radio.config import PlayoutSettings
from radio.messages import OnAirNow
from radio.playout import visuals
from radio.playout.rtmp_relay import RtmpRelay

log = logging.getLogger(__name__)

STUCK_S = 10.0  # an output that takes no audio this long is restarted
MAX_BACKOFF_S = 5.0  # a server that comes back is used again within seconds
UP_AFTER_S = 3.0  # a child that has run and taken audio this long is up
DOWN_AFTER_S = 5.0  # not up this long (a restart takes less): down, and reported
SOURCE_CHUNK = 4096
SOURCE_TIMEOUT_S = 10.0  # Icecast that takes no audio this long is taken as gone


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
        backoff = 1.0
        while not self._stop.is_set():
            started = time.monotonic()
            self._serve()
            if self._stop.is_set():
                break
            if time.monotonic() - started > 60:
                backoff = 1.0
            log.warning("%s stopped (%s); restarting in %.0fs", self.name,
                        self.errors[-1] if self.errors else "no message", backoff)
            self._stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF_S)

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


def _header_value(text: str) -> str:
    """A config string made safe for one HTTP header line."""
    return " ".join(text.split())[:200].encode("latin-1", "replace").decode("latin-1")


def _status_line(sock: socket.socket) -> str:
    """Icecast's answer to the source request: its status line, after the whole head."""
    head = b""
    while b"\r\n\r\n" not in head:
        data = sock.recv(1024)
        if not data or len(head) > 16384:
            raise ConnectionError("Icecast closed the source connection without an answer")
        head += data
    return head.split(b"\r\n", 1)[0].decode("latin-1")


def mp3_to_stdout(cfg: PlayoutSettings) -> list[str]:
    """ffmpeg encoding the fed PCM to mp3 on its stdout (for a reader in this process)."""
    return ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
            *_pcm_input(cfg.sample_rate),
            "-c:a", "libmp3lame", "-b:a", cfg.audio_bitrate, "-ar", "44100", "-ac", "2",
            "-f", "mp3", "pipe:1"]


def _pcm_input(rate: int) -> list[str]:
    return ["-thread_queue_size", "1024", "-f", "s16le", "-ar", str(rate), "-ac", "1",
            "-i", "pipe:0"]


class IcecastOutput(PcmOutput):
    """mp3 to an Icecast mount, with now-playing titles through the admin API.

    ffmpeg only encodes (to its stdout); the station itself is the source client and PUTs
    the mp3 to Icecast, so the source password travels in a request header, never on a
    command line (`ps` shows every process's argv to every user of the host).
    """

    name = "icecast"
    reads_stdout = True

    def __init__(self, cfg: PlayoutSettings, station: str, description: str) -> None:
        assert cfg.icecast_url
        self.password = cfg.icecast_secret() or ""
        super().__init__(cfg, [self.password])
        parts = urlsplit(cfg.icecast_url)
        if parts.scheme != "icecast" or not parts.hostname or not parts.path:
            raise ValueError("playout.icecast_url must look like icecast://host:port/mount")
        self.user = unquote(parts.username or cfg.icecast_user)
        self.host, self.port, self.mount = parts.hostname, parts.port or 8000, parts.path
        self.station, self.description = station, description
        self.title: str | None = None
        self.sending = False  # Icecast accepted this child's stream as the mount's source

    def command(self) -> list[str]:
        return mp3_to_stdout(self.cfg)

    def connected(self) -> bool:
        return self.sending

    def after_start(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        self.sending = False
        threading.Thread(target=self._send, args=(self.proc.stdout,), daemon=True,
                         name="playout-icecast-source").start()

    def _send(self, mp3: IO[bytes]) -> None:
        """Copy ffmpeg's mp3 to Icecast; when either side fails, restart the output."""
        try:
            with self._source() as sock:
                self.sending = True
                while chunk := mp3.read1(SOURCE_CHUNK):  # type: ignore[attr-defined]
                    sock.sendall(chunk)
        except OSError as exc:
            if not self._stop.is_set():
                self.errors.append(redact(f"icecast source: {exc}", self.secrets)[:300])
                log.warning("%s", self.errors[-1])
        self.sending = False
        self._kill()  # the writer loop sees ffmpeg gone and starts over with back-off

    def _source(self) -> socket.socket:
        """A connection Icecast has accepted as the mount's source (PUT, Icecast >= 2.4)."""
        sock = socket.create_connection((self.host, self.port), timeout=SOURCE_TIMEOUT_S)
        token = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        head = [f"PUT {quote(self.mount)} HTTP/1.1", f"Host: {self.host}:{self.port}",
                f"Authorization: Basic {token}", "Content-Type: audio/mpeg",
                "Expect: 100-continue", "Ice-Public: 0", f"User-Agent: PaperRadio/{__version__}",
                f"Ice-Name: {_header_value(self.station)}",
                f"Ice-Description: {_header_value(self.description)}"]
        try:
            sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
            status = _status_line(sock)
        except OSError:
            sock.close()
            raise
        if status.split()[1:2] not in (["100"], ["200"]):
            sock.close()
            raise ConnectionRefusedError(f"Icecast refused the source on {self.mount}: {status}")
        return sock

    @property
    def listen_url(self) -> str:
        return f"http://{self.host}:{self.port}{self.mount}"

    async def set_title(self, title: str) -> None:
        """Now playing (ICY StreamTitle) through Icecast's admin metadata call."""
        if title == self.title:
            return
        try:
            async with httpx.AsyncClient(timeout=5) as client:
                reply = await client.get(
                    f"http://{self.host}:{self.port}/admin/metadata",
                    params={"mount": self.mount, "mode": "updinfo", "song": title[:250],
                            "charset": "UTF-8"},
                    auth=(self.user, self.password))
            reply.raise_for_status()
            self.title = title
        except httpx.HTTPError as exc:  # the audio matters; the title can wait
            log.info("icecast title not updated: %s", redact(str(exc), self.secrets))


class RtmpOutput(PcmOutput):
    """The video stream: stills of the stage (page or title card, caption) with the audio.

    The stills go down a second pipe at `video_images_per_s`, written by their own thread
    and counted from the audio that reached ffmpeg, so picture and sound share one clock
    (even when audio is dropped) and neither pipe can wait on the other.
    """

    name = "rtmp"

    def __init__(self, cfg: PlayoutSettings, frame: Any) -> None:
        assert cfg.rtmp_url
        self.key = cfg.rtmp_stream_key() or ""
        super().__init__(cfg, [self.key])
        self.frame = frame  # () -> PNG bytes of the current stage
        self.fps_in = cfg.video_images_per_s
        self._pipe: tuple[int, int] | None = None
        self._samples = 0
        self._due = threading.Condition()
        self._stills: threading.Thread | None = None
        # ffmpeg publishes through a loopback relay that puts the key in: not in its argv.
        self.relay = RtmpRelay(cfg.rtmp_url, self.key) if self.key else None

    @property
    def target(self) -> list[str]:
        """ffmpeg's output: the relay (tcUrl still names the real ingest), or the URL."""
        base = (self.cfg.rtmp_url or "").rstrip("/")
        return ["-rtmp_tcurl", base, self.relay.url] if self.relay else [base]

    def stop(self) -> None:
        super().stop()
        if self.relay:
            self.relay.close()

    def command(self) -> list[str]:
        width, height = (int(v) for v in self.cfg.video_size.split("x"))
        fps = self.cfg.video_fps
        self._pipe = os.pipe()
        bitrate = self.cfg.video_bitrate
        size = f"{width}:{height}"
        return ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "error",
                "-probesize", "32", "-analyzeduration", "0", *_pcm_input(self.rate),
                "-thread_queue_size", "64", "-probesize", "32", "-analyzeduration", "0",
                "-fpsprobesize", "0", "-f", "png_pipe", "-framerate", f"{self.fps_in:g}",
                "-i", f"pipe:{self._pipe[0]}",
                "-map", "1:v", "-map", "0:a",
                "-vf", f"scale={size}:force_original_aspect_ratio=decrease,"
                       f"pad={size}:(ow-iw)/2:(oh-ih)/2,fps={fps},format=yuv420p",
                "-c:v", "libx264", "-preset", self.cfg.video_preset, "-tune", "stillimage",
                "-b:v", bitrate, "-maxrate", bitrate, "-bufsize", bitrate,
                "-g", str(2 * fps), "-keyint_min", str(2 * fps), "-sc_threshold", "0",
                "-c:a", "aac", "-b:a", self.cfg.audio_bitrate, "-ar", "44100", "-ac", "2",
                "-f", "flv", "-flvflags", "no_duration_filesize", *self.target]

    def extra_fds(self) -> tuple[int, ...]:
        return (self._pipe[0],) if self._pipe else ()

    def after_start(self) -> None:
        assert self._pipe is not None
        os.close(self._pipe[0])
        video = os.fdopen(self._pipe[1], "wb")
        self._pipe = None
        self._samples = 0
        self._stills = threading.Thread(target=self._write_stills, args=(video, self.proc),
                                        name="playout-rtmp-stills", daemon=True)
        self._stills.start()

    def after_write(self, pcm: bytes) -> None:
        with self._due:
            self._samples += len(pcm) // 2
            self._due.notify()

    def _write_stills(self, video: IO[bytes], proc: subprocess.Popen | None) -> None:
        """One still per 1/fps_in s of audio written, one ahead; ends with the child."""
        frames = 0
        with video:
            while not self._stop.is_set() and proc is not None and proc.poll() is None:
                with self._due:
                    if frames > self._samples * self.fps_in / self.rate + 1:
                        self._due.wait(timeout=1.0)
                        continue
                try:
                    video.write(self.frame())
                    video.flush()
                except (OSError, ValueError):  # the child is gone
                    return
                frames += 1

    def close_extra(self) -> None:
        if self._pipe is not None:  # the child never started
            for fd in self._pipe:
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._pipe = None
        if self._stills is not None:
            self._stills.join(timeout=10)
            self._stills = None


class Screen:
    """What the picture shows now: the stage still for ffmpeg, files for OBS.

    Files under `<data>/onair/`, each replaced atomically: current.png (the page or the
    title card), stage.png (the whole video still), caption.txt, speaker.txt, text.txt,
    title.txt, authors.txt, show.txt, arxiv_id.txt, mode.txt and now.json (onair/now).
    """

    def __init__(self, folder: Path, size: str, station: str, *, write_files: bool) -> None:
        self.folder = folder
        width, height = (int(v) for v in size.split("x"))
        self.size = (width, height)
        self.station = station
        self.write_files = write_files
        self.image: Path | None = None
        self.frame = visuals.stage_frame(self.size, show=station, title=None, arxiv_id=None,
                                         speaker=None, text="", image=None,
                                         placeholder=(station, "Starting soon"))

    def show(self, now: OnAirNow, image: Path | None) -> None:
        """Compose the still and write the files (in a thread: it takes tens of ms)."""
        show = f"{self.station} · {now.show_title}" if now.show_title else self.station
        if now.mode == "fallback" and now.show_title:
            show = f"{self.station} · From earlier: {now.show_title}"
        line = {"live": now.show_title, "ident": "On air", "fallback": "Back in a moment"}
        self.frame = visuals.stage_frame(
            self.size, show=show, title=now.title, arxiv_id=now.paper_id, speaker=now.speaker,
            text="" if now.mode == "ident" else now.text, image=image,
            placeholder=(self.station, line.get(now.mode) or ""))
        if self.write_files:
            self._write(now, image, show)

    def _write(self, now: OnAirNow, image: Path | None, show: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if image != self.image:
            write_atomic(self.folder / "current.png",
                         image.read_bytes() if image and image.is_file() else self.frame)
            self.image = image
        write_atomic(self.folder / "stage.png", self.frame)
        caption = f"{now.speaker}: {now.text}" if now.speaker and now.text else now.text
        texts = {"caption": caption, "speaker": now.speaker or "", "text": now.text,
                 "title": now.title or now.show_title or self.station,
                 "authors": ", ".join(now.authors), "show": show,
                 "arxiv_id": now.paper_id or "", "mode": now.mode}
        for name, text in texts.items():
            write_atomic(self.folder / f"{name}.txt", text + "\n")
        write_atomic(self.folder / "now.json", now.model_dump_json(indent=1))
