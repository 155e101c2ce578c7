"""The station's HTTP server: a real aiohttp server on loopback, a real HTTP client."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import feedparser
import httpx
import pytest

from radio import web
from radio.config import Settings
from radio.messages import OnAirNow
from radio.worker import Context
from tests.support.episodes import SHOW_ID, Recorded, insert_episode
from tests.support.harness import BusProbe
from tests.support.ports import free_port


@contextlib.asynccontextmanager
async def serving(ctx: Context) -> AsyncIterator[httpx.AsyncClient]:
    """Run `web.serve` on a free port; yield a client for it."""
    bind = f"127.0.0.1:{free_port()}"
    ctx = Context(ctx.settings.model_copy(update={"http_bind": bind}), ctx.store, ctx.data)
    task = asyncio.create_task(web.serve(ctx))
    async with httpx.AsyncClient(base_url=f"http://{bind}", timeout=10) as client:
        for _ in range(100):
            with contextlib.suppress(httpx.ConnectError):
                await client.get("/cover.png")
                break
            await asyncio.sleep(0.05)
        try:
            yield client
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


@pytest.fixture
async def client(recorded: Recorded) -> AsyncIterator[httpx.AsyncClient]:
    insert_episode(recorded.ctx, recorded.episode)
    async with serving(recorded.ctx) as http:
        yield http


async def test_range_request_for_the_mp3_returns_206(client: httpx.AsyncClient,
                                                     recorded: Recorded) -> None:
    data = recorded.episode.paths.mp3.read_bytes()
    response = await client.get(f"/episodes/{SHOW_ID}.mp3", headers={"Range": "bytes=1000-1999"})
    assert response.status_code == 206
    assert response.headers["Content-Range"] == f"bytes 1000-1999/{len(data)}"
    assert response.content == data[1000:2000]
    assert response.headers["Content-Type"] == "audio/mpeg"
    whole = await client.get(f"/episodes/{SHOW_ID}.mp3")
    assert whole.status_code == 200 and whole.content == data
    assert whole.headers["Accept-Ranges"] == "bytes"


async def test_feed_transcript_chapters_cover_and_index(client: httpx.AsyncClient) -> None:
    rss = await client.get("/podcast.xml")
    assert rss.status_code == 200 and rss.headers["Content-Type"].startswith("application/rss+xml")
    assert not feedparser.parse(rss.content).bozo
    vtt = await client.get(f"/episodes/{SHOW_ID}.vtt")
    assert vtt.headers["Content-Type"].startswith("text/vtt") and vtt.text.startswith("WEBVTT")
    chapters = await client.get(f"/episodes/{SHOW_ID}.chapters.json")
    assert chapters.json()["version"] == "1.2.0"
    cover = await client.get("/cover.png")
    assert cover.headers["Content-Type"] == "image/png" and cover.content[:4] == b"\x89PNG"
    page = await client.get("/")
    assert f'<audio controls preload="none" src="/episodes/{SHOW_ID}.mp3">' in page.text


@pytest.mark.parametrize("path", [
    "/episodes/radio.sqlite3", "/episodes/..%2Fradio.sqlite3", "/episodes/%2e%2e%2fradio.sqlite3",
    "/episodes/nothing-here.mp3", "/feed/podcast.xml", "/radio.sqlite3",
    f"/episodes/{SHOW_ID}.mp3%00.vtt",
])
async def test_nothing_outside_the_published_files(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 404, response.text[:200]


async def test_onair_serves_the_latest_retained_state(settings: Settings) -> None:
    ctx = Context.from_settings(settings)
    async with BusProbe(settings) as probe, serving(ctx) as http:
        assert (await http.get("/onair")).status_code == 404
        await probe.publish(OnAirNow(mode="live", show_id=SHOW_ID, seq=3, speaker="Mira",
                                     text="Next up."), retain=True)
        for _ in range(100):
            response = await http.get("/onair")
            if response.status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert response.json()["speaker"] == "Mira" and response.json()["seq"] == 3
    ctx.store.close()


async def test_a_busy_address_does_not_stop_the_worker(recorded: Recorded) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        settings = recorded.settings.model_copy(update={"http_bind": f"127.0.0.1:{port}"})
        ctx = Context(settings, recorded.ctx.store, recorded.ctx.data)
        await asyncio.wait_for(web.serve(ctx), timeout=10)  # returns: logged, not raised
