"""The station's own listener stream: mp3 over HTTP from a real ffmpeg, ICY titles."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from radio.config import PlayoutSettings
from radio.playout.listeners import METAINT, MOUNT, HttpStreamOutput, icy_block
from tests.support.ports import free_port, wait_listening

RATE = 24000


@pytest.fixture
def stream() -> Iterator[HttpStreamOutput]:
    bind = f"127.0.0.1:{free_port()}"
    output = HttpStreamOutput(PlayoutSettings(sample_rate=RATE), "Test Radio", bind)
    output.start()
    stop = threading.Event()

    def clock() -> None:  # a 440 Hz tone in real time, 100 ms a tick
        t = np.arange(RATE // 10) / RATE
        pcm = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2").tobytes()
        while not stop.is_set():
            output.feed(pcm)
            time.sleep(0.1)

    feeder = threading.Thread(target=clock, daemon=True)
    feeder.start()
    wait_listening(output.port)
    try:
        yield output
    finally:
        stop.set()
        feeder.join()
        output.stop()


@pytest.mark.slow
def test_a_player_hears_mp3_on_the_stream(stream: HttpStreamOutput, tmp_path: Path) -> None:
    recording = tmp_path / "heard.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-i", stream.listen_url, "-t", "4",
                    "-c", "copy", "-y", str(recording)], check=True, timeout=60)
    probed = json.loads(subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,sample_rate:format="
         "duration", "-of", "json", str(recording)], capture_output=True, text=True,
        check=True).stdout)
    assert [(s["codec_name"], s["sample_rate"]) for s in probed["streams"]] == [("mp3", "44100")]
    assert float(probed["format"]["duration"]) >= 3.5
    assert stream.status()["running"] and stream.status()["url"] == stream.listen_url


def test_icy_metadata_carries_the_title_when_asked(stream: HttpStreamOutput) -> None:
    stream.title = "Retrieval-Augmented Generation (arXiv:2312.10997) · It's on"
    with socket.create_connection((stream.host, stream.port), timeout=20) as sock:
        sock.sendall(f"GET {MOUNT} HTTP/1.0\r\nIcy-MetaData: 1\r\n\r\n".encode())
        reply = sock.makefile("rb")
        headers = {}
        assert reply.readline().startswith(b"HTTP/1.0 200")
        while (line := reply.readline().decode().strip()):
            key, _, value = line.partition(":")
            headers[key.lower()] = value.strip()
        assert headers["content-type"] == "audio/mpeg"
        assert int(headers["icy-metaint"]) == METAINT
        audio = reply.read(METAINT)
        size = reply.read(1)[0] * 16
        block = reply.read(size).rstrip(b"\x00").decode()
    assert len(audio) == METAINT and re.search(rb"\xff[\xe0-\xff]", audio), "mp3 frame sync"
    assert block == "StreamTitle='Retrieval-Augmented Generation (arXiv:2312.10997) · It’s on';"


def test_other_paths_are_not_found_and_a_taken_port_is_no_crash(
        stream: HttpStreamOutput) -> None:
    with socket.create_connection((stream.host, stream.port), timeout=10) as sock:
        sock.sendall(b"GET /../etc/passwd HTTP/1.0\r\n\r\n")
        assert sock.makefile("rb").readline().startswith(b"HTTP/1.0 404")
    second = HttpStreamOutput(PlayoutSettings(sample_rate=RATE), "Test Radio",
                              f"{stream.host}:{stream.port}")
    second.start()
    try:
        assert second.status()["url"] is None
        assert "cannot listen" in (second.status()["last_error"] or "")
    finally:
        second.stop()


def test_icy_block_is_padded_to_sixteen_bytes() -> None:
    assert icy_block(None) == b"\x00"
    block = icy_block("x")
    assert block[0] * 16 == len(block) - 1 and block[1:].rstrip(b"\x00") == b"StreamTitle='x';"
