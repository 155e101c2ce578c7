"""The RTMP stream key never reaches ffmpeg's command line: ffmpeg publishes through the
loopback relay, which puts the key in; a real nginx-rtmp sees the real key."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from pydantic import SecretStr

from radio.config import PlayoutSettings
from radio.playout.rtmp import RtmpOutput
from radio.playout.rtmp_relay import RtmpRelay
from tests.support.nginx_rtmp import NginxRtmp

KEY = "live_81234567_kEyOfTwItCh"


def publish(target: list[str], seconds: int = 2) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
         "-f", "lavfi", "-i", f"sine=d={seconds}", "-f", "lavfi", "-i",
         f"testsrc=d={seconds}:s=320x240", "-c:v", "libx264", "-preset", "ultrafast",
         "-c:a", "aac", "-f", "flv", *target], capture_output=True, text=True, timeout=60)


@pytest.mark.slow
def test_the_relay_puts_the_key_in_and_the_stream_arrives(tmp_path: Path) -> None:
    nginx = NginxRtmp(tmp_path / "nginx").start()
    relay = RtmpRelay(nginx.ingest_url, KEY)
    try:
        done = publish(["-rtmp_tcurl", nginx.ingest_url, relay.url])
    finally:
        relay.close()
        nginx.stop()
    assert done.returncode == 0, done.stderr
    assert KEY not in relay.url and len(relay.stand_in) == len(KEY)
    (flv,) = nginx.recordings()
    assert flv.name.startswith(KEY)  # nginx names a recording after the stream name it got
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-of", "json", str(flv)],
                           capture_output=True, text=True, timeout=30)
    codecs = sorted(s["codec_name"] for s in json.loads(probe.stdout)["streams"])
    log = (nginx.dir / "logs" / "error.log").read_text()
    nginx.remove()
    assert codecs == ["aac", "h264"]
    assert f"name='{KEY}'" in log  # published under the real key
    assert f"tc_url='{nginx.ingest_url}'" in log  # and the real ingest's address


def test_the_rtmp_output_command_line_holds_no_key() -> None:
    cfg = PlayoutSettings(rtmp_url="rtmp://ingest.example/app", rtmp_key=SecretStr(KEY))
    output = RtmpOutput(cfg, frame=lambda: b"")
    try:
        command = output.command()
        assert KEY not in " ".join(command)
        assert command[-3:] == ["-rtmp_tcurl", "rtmp://ingest.example/app", output.relay.url]
    finally:
        output.close_extra()
        output.stop()


def test_a_bad_rtmp_url_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="rtmp://host"):
        RtmpRelay("http://ingest.example/app", KEY)
