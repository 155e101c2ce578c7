"""The Icecast source: the station itself PUTs ffmpeg's mp3 to the mount.

ffmpeg only encodes (to its stdout), so the source password travels in a request header,
never on a command line; now-playing titles go through Icecast's admin API.
"""

from __future__ import annotations

import base64
import logging
import socket
import threading
from typing import IO
from urllib.parse import quote, unquote, urlsplit

import httpx

from radio import __version__
from radio.config import PlayoutSettings
from radio.playout.supervise import PcmOutput, mp3_to_stdout, redact

log = logging.getLogger(__name__)

SOURCE_CHUNK = 4096
SOURCE_TIMEOUT_S = 10.0  # Icecast that takes no audio this long is taken as gone


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
