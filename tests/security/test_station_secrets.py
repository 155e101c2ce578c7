"""`radio up` with known secrets: none of them shows in what an operator or another user
of the host can see (logs, `radio status`, the bus, the web pages, the data root, the
command lines of the station's children), and every socket it listens on is loopback.

The station runs against the production broker (admin user), a real Icecast and a real
nginx-rtmp (standing in for Twitch), an OBS address where nothing answers (its errors
are read too) and the operator view on.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiomqtt
import httpx
import psutil
import pytest
from pydantic import SecretStr

from tests.security.broker import ProductionBroker, password
from tests.support.arxiv_standin import ArxivStandIn
from tests.support.icecast import SOURCE_PASSWORD, Icecast
from tests.support.nginx_rtmp import NginxRtmp
from tests.support.ports import free_port
from tests.support.procs import radio_env, spawn, stop, wait_for
from tests.support.settings import make_settings

STREAM_KEY = "live_81234567_kEyOfTwItCh"
OBS_PASSWORD = "obs-pass-Jq47Zr"
OPERATOR_TOKEN = "op-token-Vw93Lc"
LOOPBACK = {"127.0.0.1", "::1"}


def secrets() -> dict[str, str]:
    return {"broker password": password("admin"), "stream key": STREAM_KEY,
            "OBS password": OBS_PASSWORD, "Icecast password": SOURCE_PASSWORD,
            "operator token": OPERATOR_TOKEN}


def leaks(where: str, text: str) -> list[str]:
    return [f"{name} in {where}" for name, value in secrets().items() if value in text]


def family(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def command_lines(pid: int) -> dict[int, str]:
    """What `ps -eo args` shows for the station and its children."""
    found = {}
    for proc in family(pid):
        with contextlib.suppress(psutil.Error):
            found[proc.pid] = " ".join(proc.cmdline())
    return found


def listening(pid: int) -> list[tuple[str, str, int]]:
    """(process, address, port) of every listening TCP and bound UDP socket."""
    found = []
    for proc in family(pid):
        try:
            for conn in proc.net_connections(kind="inet"):
                if conn.status == psutil.CONN_LISTEN or (conn.type == 2 and conn.laddr):
                    found.append((proc.name(), conn.laddr.ip, conn.laddr.port))
        except psutil.Error:
            pass
    return found


async def bus_traffic(broker: ProductionBroker, seconds: float) -> str:
    """Everything on the bus (retained statuses, errors, on-air) for `seconds`."""
    seen: list[str] = []
    async with aiomqtt.Client("127.0.0.1", broker.port, username="admin",
                              password=password("admin"), identifier="secrets-probe",
                              protocol=aiomqtt.ProtocolVersion.V5) as client:
        await client.subscribe("radio/#", qos=1)
        try:
            async with asyncio.timeout(seconds):
                async for message in client.messages:
                    seen.append(f"{message.topic.value} {bytes(message.payload or b'')!r}")
        except TimeoutError:
            pass
    return "\n".join(seen)


def web_pages(bind: str) -> str:
    base = f"http://{bind}"
    pages = []
    with httpx.Client(timeout=10) as web:
        for path in ("/", "/operator", "/operator?token=" + OPERATOR_TOKEN[:-1]):
            pages.append(web.get(base + path).text)
        pages.append(web.post(base + "/operator/signin", data={"token": "wrong"},
                              headers={"Origin": base}).text)
        pages.append(web.get(base + "/operator",
                             headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"}).text)
    return "\n".join(pages)


@pytest.mark.slow
def test_no_secret_shows_and_every_socket_is_loopback(tmp_path: Path) -> None:
    broker = ProductionBroker(tmp_path / "mosquitto").start()
    icecast, rtmp = Icecast(tmp_path / "icecast").start(), NginxRtmp(tmp_path / "rtmp").start()
    cfg = make_settings(tmp_path / "data", broker_url=SecretStr(broker.url("admin")))
    bind, listen = f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"
    env = {"RADIO_HTTP_BIND": bind, "RADIO_PLAYOUT__LISTEN_BIND": listen,
           "RADIO_PLAYOUT__ICECAST_URL": icecast.source_url(),
           "RADIO_PLAYOUT__ICECAST_PASSWORD": SOURCE_PASSWORD,
           "RADIO_PLAYOUT__RTMP_URL": rtmp.ingest_url, "RADIO_PLAYOUT__RTMP_KEY": STREAM_KEY,
           "RADIO_OBS__URL": f"ws://127.0.0.1:{free_port()}",
           "RADIO_OBS__PASSWORD": OBS_PASSWORD, "RADIO_OPERATOR_TOKEN": OPERATOR_TOKEN}
    found: list[str] = []
    with ArxivStandIn() as arxiv:
        station = spawn(["up"], cfg, tmp_path / "up.log", **env, **arxiv.env())
        try:
            seen_lines: dict[int, str] = {}
            sockets: list[tuple[str, str, int]] = []

            def on_air() -> bool:
                assert station.poll() is None, (tmp_path / "up.log").read_text()[-3000:]
                seen_lines.update(command_lines(station.pid))
                sockets.extend(listening(station.pid))
                return bool(icecast.sources()) and bool(rtmp.recordings())

            wait_for(on_air, 240, interval=1, what="the stream on Icecast and RTMP")
            for _ in range(5):  # the children as they run, a few times over
                seen_lines.update(command_lines(station.pid))
                sockets.extend(listening(station.pid))
                time.sleep(1)
            assert any("ffmpeg" in line for line in seen_lines.values())
            found += leaks("the web pages", web_pages(bind))
            found += leaks("the bus", asyncio.run(bus_traffic(broker, 3)))
            for args in (["status"], ["status", "--json"], ["stream", "start"]):
                done = subprocess.run([sys.executable, "-m", "radio", *args], text=True,
                                      env=radio_env(cfg), capture_output=True, timeout=60)
                found += leaks(f"radio {' '.join(args)}", done.stdout + done.stderr)
        finally:
            stop(station, signal.SIGTERM, timeout=30)
            icecast.stop()
            rtmp.stop()
            broker.stop()
    for pid, line in seen_lines.items():
        found += leaks(f"the command line of {pid} ({line.split()[0]})", line)
    found += leaks("the station's log", (tmp_path / "up.log").read_text(errors="replace"))
    for path in cfg.data_dir.rglob("*"):
        if path.is_file():
            found += leaks(f"{path.relative_to(cfg.data_dir)}",
                           path.read_bytes().decode("latin-1"))
    assert found == []
    outside = {s for s in sockets if s[1] not in LOOPBACK}
    assert sockets and outside == set(), outside
