"""A station for the web tests: corpus papers in the store, an episode, a schedule, the
embedded broker, a stand-in for the playout's listener stream, and the real web server,
all on one event loop in a background thread (so selenium tests can stay synchronous)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import feedparser
from aiohttp import web as aioweb

from radio import web
from radio.artifacts import parse_arxiv_id
from radio.broker import EmbeddedBroker
from radio.bus import publish_once
from radio.config import BusSettings, PlayoutSettings, Settings
from radio.messages import Message
from radio.shows import schedule as sched
from radio.worker import Context
from tests.support.ports import free_port, wait_listening

CORPUS_FEED = Path("api/cat_csLG_OR_csAI_max20_2026-04-30.xml")
SHOW_ID = "daily-2026-04-30"
TOKEN = "operator-secret-token-for-tests"
XSS_SCRIPT_ID = "2604.99001"
XSS_IMG_ID = "2604.99002"
XSS_SCRIPT_TITLE = "<script>window.__xss = 'script'</script>Attention Is <b>All</b> You Need"
XSS_IMG_TITLE = '"><img src=x onerror="window.__xss = \'img\'">Tricky title'
CHAPTER_START = 12.0


@dataclass
class Paper:
    arxiv_id: str
    title: str
    authors: list[str]
    abstract: str


@dataclass
class Station:
    settings: Settings
    ctx: Context
    base_url: str
    papers: list[Paper]
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    tasks: list[asyncio.Task] = field(default_factory=list)
    stream: dict = field(default_factory=dict)  # the stand-in stream's connections and cuts

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def publish(self, message: Message, *, retain: bool = True) -> None:
        self.call(publish_once(self.settings, message.TOPIC, message.to_json(), retain=retain))


def corpus_papers(corpus: Path) -> list[Paper]:
    parsed = feedparser.parse(str(corpus / CORPUS_FEED))
    papers = []
    for entry in parsed.entries:
        arxiv_id, _ = parse_arxiv_id(entry.id)
        papers.append(Paper(arxiv_id, " ".join(entry.title.split()),
                            [a.name for a in entry.get("authors", [])],
                            " ".join(entry.summary.split())))
    return papers


def fill_store(ctx: Context, papers: list[Paper]) -> None:
    """Papers (two with markup in every field), summaries, stages, a show that aired."""
    store = ctx.store
    rows = [*papers,
            Paper(XSS_SCRIPT_ID, XSS_SCRIPT_TITLE, ["<script>alert(1)</script> Mallory"],
                  "An abstract with <script>window.__xss='abstract'</script> in it."),
            Paper(XSS_IMG_ID, XSS_IMG_TITLE, ['"><img src=x onerror=alert(2)>'],
                  "Another <img src=x onerror=\"window.__xss='abs'\"> abstract.")]
    with store.transaction() as t:
        for n, p in enumerate(rows):
            t.upsert_paper(p.arxiv_id, 1, title=p.title, authors=p.authors, abstract=p.abstract,
                           categories=["cs.LG"], primary_category="cs.LG",
                           published=f"2026-04-{10 + n % 20:02d}T00:00:00Z",
                           licence_url="http://arxiv.org/licenses/nonexclusive-distrib/1.0/",
                           source="api")
            hook = ("<img src=x onerror=\"window.__xss='hook'\"> hook" if p.arxiv_id ==
                    XSS_IMG_ID else f"One line about {p.title[:40]}")
            t.record_summary(p.arxiv_id, 1, json.dumps({"summary": {
                "hook": hook, "short": p.abstract[:200], "key_points": []}}), 1.0, "test")
            for stage in ("fetch", "pdf", "summary"):
                t.set_stage(p.arxiv_id, 1, stage, "done")
        t.set_stage(papers[3].arxiv_id, 1, "embed", "failed", "index <b>busy</b>")
        t.claim_show(SHOW_ID, "daily", "2026-04-30", "{}", title="Daily papers, 30 April 2026",
                     status="recorded")
        for n, p in enumerate(papers[:3]):
            t.add_show_paper(SHOW_ID, p.arxiv_id, 1, "discussion")
            t.record_segment(SHOW_ID, n, "Mira", f"About {p.title}", p.arxiv_id, None, None)
            if n == 0:
                t.mark_aired(SHOW_ID, n)
    sched.add_entry(store, "daily", "09:00", sched.DAYS, "Europe/Helsinki", [], 1800)
    sched.add_entry(store, "weekly", "18:00", ["sun"], "UTC", [], 2700)


def make_mp3(target: Path, seconds: float, tone: int = 440) -> Path:
    """A plain mp3 (no ID3 or Xing header, so copies can follow one another in a stream)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"sine=frequency={tone}:duration={seconds}", "-ac", "1", "-ar", "44100",
                    "-c:a", "libmp3lame", "-b:a", "64k", "-write_xing", "0",
                    "-id3v2_version", "0", str(target)], check=True)
    return target


def add_episode(ctx: Context, papers: list[Paper]) -> None:
    episodes = ctx.data.episodes_dir
    mp3 = make_mp3(episodes / f"{SHOW_ID}.mp3", 30)
    (episodes / f"{SHOW_ID}.vtt").write_text(
        "WEBVTT\n\n1\n00:00:00.000 --> 00:00:05.000\n<v Alex>Welcome to Paper Radio.</v>\n\n"
        f"2\n00:00:{CHAPTER_START:06.3f} --> 00:00:20.000\n<v Mira>Next up: "
        f"{papers[1].title.replace('&', '&amp;').replace('<', '&lt;')}.</v>\n\n")
    chapters = [{"startTime": 0.0, "endTime": CHAPTER_START, "title": papers[0].title,
                 "url": f"https://arxiv.org/abs/{papers[0].arxiv_id}"},
                {"startTime": CHAPTER_START, "endTime": 30.0, "title": papers[1].title,
                 "url": f"https://arxiv.org/abs/{papers[1].arxiv_id}"}]
    (episodes / f"{SHOW_ID}.chapters.json").write_text(
        json.dumps({"version": "1.2.0", "chapters": chapters}))
    ctx.store.save_episode(SHOW_ID, "Daily papers, 30 April 2026", f"episodes/{SHOW_ID}.mp3",
                           f"episodes/{SHOW_ID}.vtt", f"episodes/{SHOW_ID}.chapters.json", 30,
                           mp3.stat().st_size, -16)


async def fake_listener_stream(bind: str, mp3: Path, control: dict) -> aioweb.AppRunner:
    """Stands in for the playout's /radio.mp3: the same mp3 over and over, a little faster
    than real time (64 kbit/s is 8 KB/s; this sends 16 KB/s). `control["cut_after"]` (bytes)
    makes it drop each listener after that much, as a restarting playout would."""
    data = mp3.read_bytes()

    async def radio(request: aioweb.Request) -> aioweb.StreamResponse:
        control["connections"] = control.get("connections", 0) + 1
        response = aioweb.StreamResponse(headers={"Content-Type": "audio/mpeg"})
        await response.prepare(request)
        sent, cut_after = 0, control.get("cut_after")  # as it was when this listener came
        with contextlib.suppress(ConnectionResetError, asyncio.CancelledError):
            while not cut_after or sent < cut_after:
                for start in range(0, len(data), 4096):
                    await response.write(data[start:start + 4096])
                    sent += 4096
                    await asyncio.sleep(0.25)
                    if cut_after and sent >= cut_after:
                        break
        return response

    app = aioweb.Application()
    app.router.add_get("/radio.mp3", radio)
    runner = aioweb.AppRunner(app, access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    host, port = web.parse_bind(bind)
    await aioweb.TCPSite(runner, host, port).start()
    return runner


def start_station(root: Path, corpus: Path) -> Station:
    settings = Settings(
        data_dir=root / "data", http_bind=f"127.0.0.1:{free_port()}",
        bus=BusSettings(embedded_port=free_port(), heartbeat_s=1.0),
        playout=PlayoutSettings(listen_bind=f"127.0.0.1:{free_port()}"))
    ctx = Context.from_settings(settings)
    papers = corpus_papers(corpus)
    fill_store(ctx, papers)
    add_episode(ctx, papers)
    live_mp3 = make_mp3(root / "live.mp3", 8, tone=330)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="web-station", daemon=True)
    thread.start()
    station = Station(settings, ctx, f"http://{settings.http_bind}", papers, loop, thread)

    async def up() -> None:
        broker = EmbeddedBroker(settings.bus.embedded_port)
        await broker.start()
        station.tasks.append(asyncio.ensure_future(_hold(broker)))
        stream = await fake_listener_stream(settings.playout.listen_bind or "", live_mp3,
                                            station.stream)
        station.tasks.append(asyncio.ensure_future(_hold_runner(stream)))
        station.tasks.append(asyncio.ensure_future(
            web.serve(ctx, semantic_search=False, token=TOKEN)))

    station.call(up(), timeout=30)
    wait_listening(web.parse_bind(settings.http_bind)[1])
    return station


async def _hold(broker: EmbeddedBroker) -> None:
    try:
        await asyncio.Event().wait()
    finally:
        await broker.stop()


async def _hold_runner(runner: aioweb.AppRunner) -> None:
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def stop_station(station: Station) -> None:
    async def down() -> None:
        for task in reversed(station.tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    with contextlib.suppress(Exception):
        station.call(down(), timeout=20)
    station.loop.call_soon_threadsafe(station.loop.stop)
    station.thread.join(10)
    station.ctx.store.close()
