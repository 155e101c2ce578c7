"""A loopback RTMP relay that puts the stream key in, so it never sits on a command line.

ffmpeg takes its RTMP target as an argument, and `ps` shows every process's arguments to
every user of the host. So ffmpeg publishes to `rtmp://127.0.0.1:<port>/<app>/<stand-in>`,
where the stand-in is random and exactly as long as the key. The relay passes every byte
on to the real ingest, and in the client's command messages (connect, releaseStream,
FCPublish, publish: AMF) writes the key over the stand-in. The lengths being equal, no
chunk header changes: the relay reads the chunk stream only to find whole messages.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import socket
import ssl
import string
import threading
from dataclasses import dataclass, field
from typing import Any, cast
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

HANDSHAKE = (1 + 1536, 1536)  # C0+C1, then C2 once the server answered: passed on untouched
COMMAND_TYPES = (17, 20)  # AMF3 and AMF0 command messages
SET_CHUNK_SIZE = 1
CONNECT_TIMEOUT_S = 10.0
_ALPHABET = string.ascii_letters + string.digits


@dataclass
class _Chunks:
    """What the RTMP chunk stream remembers per chunk stream id."""

    length: int = 0
    type: int = 0
    extended: bool = False
    left: int = 0  # bytes of the current message still to come
    parts: list[tuple[bytes, bytes]] = field(default_factory=list)  # (header, payload)


class RtmpRelay:
    """Listens on 127.0.0.1; each connection is relayed to `upstream` with the key put in."""

    def __init__(self, upstream: str, key: str) -> None:
        parts = urlsplit(upstream)
        if parts.scheme not in ("rtmp", "rtmps") or not parts.hostname:
            raise ValueError("playout.rtmp_url must look like rtmp://host[:port]/app")
        self.tls = parts.scheme == "rtmps"
        self.host, self.upstream_port = parts.hostname, parts.port or (443 if self.tls else 1935)
        self.app = parts.path.rstrip("/")
        self.key = key.encode()
        self.stand_in = "".join(secrets.choice(_ALPHABET) for _ in key).encode()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name="rtmp-relay", daemon=True).start()

    @property
    def url(self) -> str:
        """Where ffmpeg publishes: loopback, the stand-in in place of the key."""
        return f"rtmp://127.0.0.1:{self.port}{self.app}/{self.stand_in.decode()}"

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(OSError):
            self._server.shutdown(socket.SHUT_RDWR)
        self._server.close()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(client,), name="rtmp-relay-conn",
                             daemon=True).start()

    def _upstream(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.upstream_port),
                                        timeout=CONNECT_TIMEOUT_S)
        sock.settimeout(None)
        if self.tls:
            return ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        return sock

    def _relay(self, client: socket.socket) -> None:
        try:
            upstream = self._upstream()
        except OSError as exc:  # ffmpeg sees the connection drop and says so; so do we
            log.warning("rtmp relay: cannot reach %s:%d: %s", self.host, self.upstream_port, exc)
            client.close()
            return
        back = threading.Thread(target=_copy, args=(upstream, client), daemon=True,
                                name="rtmp-relay-back")
        back.start()
        try:
            self._forward(_Reader(client), upstream)
        except (OSError, EOFError):
            pass
        finally:
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            back.join(timeout=5)

    def _forward(self, reader: _Reader, upstream: socket.socket) -> None:
        for part in HANDSHAKE:
            upstream.sendall(reader.take(part))
        chunk_size, streams = 128, cast(dict[int, Any], {})
        while True:
            header, csid, fmt = reader.basic_header()
            state = streams.setdefault(csid, _Chunks())
            sizes = {0: 11, 1: 7, 2: 3, 3: 0}[fmt]
            message_header = reader.take(sizes)
            header += message_header
            if fmt in (0, 1):
                state.length = int.from_bytes(message_header[3:6], "big")
                state.type = message_header[6]
            if fmt != 3:
                state.extended = message_header[:3] == b"\xff\xff\xff"
            if state.extended:
                header += reader.take(4)
            if state.left == 0:
                state.left, state.parts = state.length, []
            piece = reader.take(min(chunk_size, state.left))
            state.left -= len(piece)
            state.parts.append((header, piece))
            if state.left:
                continue
            if state.type == SET_CHUNK_SIZE:
                chunk_size = int.from_bytes(state.parts[0][1][:4], "big") & 0x7FFFFFFF
            upstream.sendall(b"".join(h + p for h, p in self._put_key(state)))

    def _put_key(self, state: _Chunks) -> list[tuple[bytes, bytes]]:
        """The message's chunks, the stand-in replaced by the key in a command message."""
        payload = b"".join(p for _, p in state.parts)
        if state.type not in COMMAND_TYPES or self.stand_in not in payload:
            return state.parts
        payload = payload.replace(self.stand_in, self.key)
        out, at = [], 0
        for header, piece in state.parts:
            out.append((header, payload[at:at + len(piece)]))
            at += len(piece)
        return out


class _Reader:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = bytearray()

    def take(self, count: int) -> bytes:
        while len(self.buffer) < count:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError
            self.buffer += data
        out = bytes(self.buffer[:count])
        del self.buffer[:count]
        return out

    def basic_header(self) -> tuple[bytes, int, int]:
        """The chunk's basic header (1 to 3 bytes), its chunk stream id and format."""
        first = self.take(1)
        fmt, csid = first[0] >> 6, first[0] & 0x3F
        if csid == 0:
            more = self.take(1)
            return first + more, 64 + more[0], fmt
        if csid == 1:
            more = self.take(2)
            return first + more, 64 + more[0] + 256 * more[1], fmt
        return first, csid, fmt


def _copy(source: socket.socket, target: socket.socket) -> None:
    """Server to client, byte for byte, until either side closes."""
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            target.sendall(data)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)
