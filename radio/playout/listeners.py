"""The listeners' stream served by the station itself: mp3 over HTTP, no Icecast needed.

A fresh `radio up` has no Icecast, yet a listener must be able to open the station in a
media player: this output serves the timeline at http://<playout.listen_bind>/radio.mp3.
ffmpeg encodes the PCM to mp3 on its stdout; every listener gets the same bytes, starting
with a short burst so players begin at once, and ICY now-playing titles when the player
asks for them (`Icy-MetaData: 1`). A listener that falls behind is dropped, never waited
for: the clock does not know listeners exist. Icecast remains the way to serve many.
"""

from __future__ import annotations

import collections
import io
import logging
import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any
from urllib.parse import urlsplit

from radio.config import PlayoutSettings
from radio.playout.supervise import PcmOutput, mp3_to_stdout

log = logging.getLogger(__name__)

MOUNT = "/radio.mp3"
CHUNK = 4096
METAINT = 16000  # audio bytes between ICY metadata blocks
BURST_CHUNKS = 16  # about 4 s at 128 kbit/s
LAG_CHUNKS = 64  # how far a listener may fall behind before it is dropped


def parse_bind(bind: str) -> tuple[str, int]:
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"playout.listen_bind must be host:port, not {bind!r}")
    return host.strip("[]"), int(port)


def icy_block(title: str | None) -> bytes:
    """An ICY metadata block: a length byte (x16), then StreamTitle padded with NULs."""
    if title is None:
        return b"\x00"
    text = f"StreamTitle='{title.replace(chr(39), chr(8217))}';".encode()[: 255 * 16]
    size = -(-len(text) // 16)
    return bytes([size]) + text.ljust(size * 16, b"\x00")


class Listener:
    def __init__(self, burst: list[bytes]) -> None:
        self.chunks: queue.Queue[bytes] = queue.Queue(LAG_CHUNKS + len(burst))
        for chunk in burst:
            self.chunks.put_nowait(chunk)
        self.dropped = False


class HttpStreamOutput(PcmOutput):
    """mp3 to any number of HTTP listeners, from one ffmpeg encoder."""

    name = "http"
    reads_stdout = True

    def __init__(self, cfg: PlayoutSettings, station: str, bind: str) -> None:
        super().__init__(cfg, [])
        self.station = station
        self.host, self.port = parse_bind(bind)
        self.title: str = station
        self.listeners: set[Listener] = set()
        self.burst: collections.deque[bytes] = collections.deque(maxlen=BURST_CHUNKS)
        self.lock = threading.Lock()
        self.server: ThreadingHTTPServer | None = None

    @property
    def listen_url(self) -> str:
        return f"http://{self.host}:{self.port}{MOUNT}"

    def command(self) -> list[str]:
        return mp3_to_stdout(self.cfg)

    # --- life ------------------------------------------------------------------------------

    def start(self) -> None:
        super().start()
        try:
            self.server = ThreadingHTTPServer((self.host, self.port), _handler_for(self))
        except OSError as exc:  # the timeline and the other outputs go on without it
            self.errors.append(f"cannot listen on {self.host}:{self.port}: {exc}")
            log.warning("listener stream off: %s", self.errors[-1])
            return
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, name="playout-listeners",
                         daemon=True).start()
        log.info("listeners: %s", self.listen_url)

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        super().stop()

    def status(self) -> dict[str, Any]:
        with self.lock:
            count = len(self.listeners)
        return {**super().status(), "url": self.listen_url if self.server else None,
                "listeners": count}

    # --- from ffmpeg to the listeners ----------------------------------------------------------

    def after_start(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        threading.Thread(target=self._read_mp3, args=(self.proc.stdout,), daemon=True,
                         name="playout-http-mp3").start()

    def _read_mp3(self, stream: IO[bytes]) -> None:
        while chunk := stream.read1(CHUNK):  # type: ignore[attr-defined]
            with self.lock:
                self.burst.append(chunk)
                for listener in list(self.listeners):
                    try:
                        listener.chunks.put_nowait(chunk)
                    except queue.Full:
                        listener.dropped = True
                        self.listeners.discard(listener)

    def join(self) -> Listener:
        with self.lock:
            listener = Listener(list(self.burst))
            self.listeners.add(listener)
        return listener

    def leave(self, listener: Listener) -> None:
        with self.lock:
            self.listeners.discard(listener)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()


class _IcyWriter:
    """Writes audio, putting a metadata block after every METAINT bytes when asked to."""

    def __init__(self, out: IO[bytes] | io.BufferedIOBase,
                 output: HttpStreamOutput, metadata: bool) -> None:
        self.out, self.output, self.metadata = out, output, metadata
        self.since = 0
        self.sent_title: str | None = None

    def write(self, data: bytes) -> None:
        if not self.metadata:
            self.out.write(data)
            return
        while data:
            take = min(len(data), METAINT - self.since)
            self.out.write(data[:take])
            data, self.since = data[take:], self.since + take
            if self.since == METAINT:
                title = self.output.title
                self.out.write(icy_block(title if title != self.sent_title else None))
                self.sent_title, self.since = title, 0


def _handler_for(output: HttpStreamOutput) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "PaperRadio"

        def do_GET(self) -> None:
            if urlsplit(self.path).path != MOUNT:
                self.send_error(404, f"the stream is at {MOUNT}")
                return
            metadata = self.headers.get("Icy-MetaData", "").strip() == "1"
            self.send_response(200)
            self.send_header("Content-Type", "audio/mpeg")
            self.send_header("Cache-Control", "no-cache, no-store")
            self.send_header("icy-name", output.station)
            if metadata:
                self.send_header("icy-metaint", str(METAINT))
            self.end_headers()
            self._stream(_IcyWriter(self.wfile, output, metadata))

        def _stream(self, writer: _IcyWriter) -> None:
            listener = output.join()
            try:
                while not output.stopping and not listener.dropped:
                    try:
                        writer.write(listener.chunks.get(timeout=1.0))
                    except queue.Empty:
                        continue
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                pass  # the listener went away
            finally:
                output.leave(listener)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("listener %s: " + format, self.client_address[0], *args)

    return Handler

