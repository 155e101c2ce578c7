"""The station's HTTP server: podcast feed, episodes, transcripts, chapters, cover, on-air.

aiohttp serves files with `FileResponse`, which answers Range requests (206) so
players can seek. Only the files the station publishes are served: names are
checked against a pattern and resolved inside `episodes/` or `feed/` before a
file is opened, so no request reaches anything else under (or outside) the data root.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from datetime import datetime
from pathlib import Path

import jinja2
from aiohttp import web

from radio import feed
from radio.bus import Bus, Subscription
from radio.episodes.episode import AI_DISCLOSURE, EpisodePaths, cover_path
from radio.messages import OnAirNow, parse
from radio.worker import Context

log = logging.getLogger(__name__)

_EPISODE_FILE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,80}\.(?:mp3|vtt|chapters\.json)$")
_TYPES = {".mp3": "audio/mpeg", ".vtt": "text/vtt; charset=utf-8",
          ".json": "application/json+chapters; charset=utf-8"}
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(["html"]))
CTX = web.AppKey("ctx", Context)
ONAIR = web.AppKey("onair", dict)


def parse_bind(bind: str) -> tuple[str, int]:
    """`host:port` (or `[v6]:port`) into its parts."""
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"http_bind must be host:port, not {bind!r}")
    return host.strip("[]"), int(port)


def _inside(base: Path, name: str) -> Path:
    path = (base / name).resolve()
    if not path.is_relative_to(base.resolve()) or not path.is_file():
        raise web.HTTPNotFound()
    return path


async def episode_file(request: web.Request) -> web.FileResponse:
    name = request.match_info["name"]
    if not _EPISODE_FILE.match(name):
        raise web.HTTPNotFound()
    path = _inside(request.app[CTX].data.episodes_dir, name)
    return web.FileResponse(path, headers={"Content-Type": _TYPES[path.suffix]})


async def podcast_feed(request: web.Request) -> web.FileResponse:
    ctx = request.app[CTX]
    path = ctx.data.feed_dir / feed.FEED_FILE
    if not path.is_file():  # a fresh station: an empty but valid feed
        await asyncio.to_thread(feed.build_feed, ctx.store, ctx.data, ctx.settings)
    return web.FileResponse(path, headers={"Content-Type": "application/rss+xml; charset=utf-8"})


async def cover(request: web.Request) -> web.FileResponse:
    ctx = request.app[CTX]
    path = await asyncio.to_thread(cover_path, ctx.data, ctx.settings)
    return web.FileResponse(path, headers={"Content-Type": "image/png"})


async def onair(request: web.Request) -> web.Response:
    latest = request.app[ONAIR].get("now")
    if latest is None:
        return web.json_response({"mode": "unknown"}, status=404)
    return web.Response(body=latest, content_type="application/json")


async def index(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    rows = ctx.store.query("SELECT * FROM episodes ORDER BY published_at DESC")
    episodes = []
    for row in rows:
        paths = EpisodePaths.of(ctx.data, row["show_id"])
        episodes.append({
            "show_id": row["show_id"], "title": row["title"],
            "published": datetime.fromisoformat(row["published_at"]).strftime("%Y-%m-%d %H:%M"),
            "duration": feed.format_duration(row["duration_s"]),
            "mp3": f"/episodes/{paths.mp3.name}",
            "transcript": f"/episodes/{paths.transcript.name}",
            "chapters": f"/episodes/{paths.chapters.name}",
        })
    html = _TEMPLATES.get_template("index.html").render(
        title=ctx.settings.feed.title, description=ctx.settings.feed.description,
        language=ctx.settings.feed.language, feed_url=f"/{feed.FEED_FILE}",
        disclosure=AI_DISCLOSURE, episodes=episodes)
    return web.Response(text=html, content_type="text/html")


def make_app(ctx: Context) -> web.Application:
    app = web.Application()
    app[CTX] = ctx
    app[ONAIR] = {}
    app.router.add_get("/", index)
    app.router.add_get(f"/{feed.FEED_FILE}", podcast_feed)
    app.router.add_get("/cover.png", cover)
    app.router.add_get("/episodes/{name}", episode_file)
    app.router.add_get("/onair", onair)
    return app


async def _watch_onair(ctx: Context, latest: dict) -> None:
    """Keep the latest retained `onair/now` for /onair (a plain subscriber, no inbox)."""
    bus = Bus(ctx.settings, f"radio-web-{random.randrange(1 << 30)}", persistent=False,
              subscriptions=(Subscription(OnAirNow.TOPIC, qos=0, shared=False),))

    async def keep(topic: str, payload: bytes, retained: bool) -> None:
        try:
            parse(OnAirNow, payload)
        except ValueError as exc:
            log.debug("bad onair/now payload ignored: %s", exc)
            return
        latest["now"] = payload

    await bus.run(keep)


async def serve(ctx: Context) -> None:
    """Serve until cancelled. A busy address is logged, not fatal: recording goes on."""
    app = make_app(ctx)
    host, port = parse_bind(ctx.settings.http_bind)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        log.error("HTTP server cannot listen on %s: %s", ctx.settings.http_bind, exc)
        await runner.cleanup()
        return
    log.info("HTTP server on http://%s:%d (feed %s)", host, port, feed.feed_url(ctx.settings))
    try:
        await _watch_onair(ctx, app[ONAIR])
    finally:
        await runner.cleanup()
