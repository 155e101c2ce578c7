"""The station's HTTP server: the listeners' page, the live stream, the feed, the operator view.

For listeners (read-only): `/` (listen live, now playing, coming up, episodes, papers),
`/radio.mp3` (the live stream, relayed from the playout's listener stream or Icecast, so
one address is enough), `/events` (server-sent events: every new `onair/now`), `/onair`
(the latest `onair/now` as JSON), `/papers` (recent papers, search), `/papers/<id>` (one
paper, related papers), its title card and, where the licence allows, its page images;
the podcast feed, episodes, transcripts and chapters; the cover.

For the operator: `/operator`, off unless a token is configured (RADIO_OPERATOR_TOKEN or
RADIO_OPERATOR_TOKEN_FILE; never the TOML file). Without the token (a cookie set by the
sign-in form, or `Authorization: Bearer`) it answers 401. Each action is a POST that
carries a CSRF token derived from the operator token and comes from this origin.

aiohttp serves files with `FileResponse`, which answers Range requests (206) so players
can seek. Only the files the station publishes are served: names are checked against a
pattern and resolved inside their folder before a file is opened, so no request reaches
anything else under (or outside) the data root. Text from papers is escaped by jinja2's
autoescape, and a Content-Security-Policy allows scripts only from the station itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import os
import random
import re
from pathlib import Path
from typing import Any

import aiohttp
import jinja2
from aiohttp import web

from radio import feed, webdata
from radio.bus import Bus, Subscription
from radio.episodes.episode import AI_DISCLOSURE, cover_path
from radio.messages import OnAirNow, ScheduleChanged, WorkerStatus, parse
from radio.worker import Context

log = logging.getLogger(__name__)

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = TEMPLATES_DIR / "static"
_EPISODE_FILE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,80}\.(?:mp3|vtt|chapters\.json)$")
_STATIC_FILE = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}\.(?:css|js)$")
_ARXIV_ID = r"{arxiv_id:(?:\d{4}\.\d{4,5}(?:v\d+)?|[a-z][a-z.-]{1,20}/\d{7}(?:v\d+)?)}"
_TYPES = {".mp3": "audio/mpeg", ".vtt": "text/vtt; charset=utf-8",
          ".json": "application/json+chapters; charset=utf-8",
          ".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
    autoescape=jinja2.select_autoescape(["html"], default_for_string=True, default=True))
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
TOKEN_ENV = "RADIO_OPERATOR_TOKEN"
COOKIE = "radio_operator"
SSE_PING_S = 15.0
STREAM_CHUNK = 8192

CTX = web.AppKey("ctx", Context)
ONAIR = web.AppKey("onair", dict)
LIVE: web.AppKey[Live] = web.AppKey("live")
SEARCH = web.AppKey("search", webdata.Searcher)
TOKEN = web.AppKey("token", str)


def parse_bind(bind: str) -> tuple[str, int]:
    """`host:port` (or `[v6]:port`) into its parts."""
    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"http_bind must be host:port, not {bind!r}")
    return host.strip("[]"), int(port)


def operator_token(environ: dict[str, str] | None = None) -> str | None:
    """The operator's token from the environment or a file it names; None: the view is off."""
    env = os.environ if environ is None else environ
    token = env.get(TOKEN_ENV, "").strip()
    if not token and env.get(f"{TOKEN_ENV}_FILE"):
        try:
            token = Path(env[f"{TOKEN_ENV}_FILE"]).read_text().strip()
        except OSError as exc:
            log.error("cannot read %s_FILE: %s; the operator view is off", TOKEN_ENV, exc)
            return None
    return token or None


class Live:
    """The latest on-air state, worker statuses and the page's event subscribers."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.payload: bytes | None = None
        self.now: OnAirNow | None = None
        self.statuses: dict[str, dict[str, Any]] = {}
        self.clients: set[asyncio.Queue[str | None]] = set()
        self.bus: Bus | None = None

    def view(self) -> dict[str, Any]:
        store, data = self.ctx.store, self.ctx.data
        return webdata.onair_view(store, data, self.now, webdata.coming_shows(store, 1))

    async def event(self) -> str:
        view = await asyncio.to_thread(self.view)
        return f"event: now\ndata: {json.dumps(view, ensure_ascii=True)}\n\n"

    async def broadcast(self) -> None:
        if not self.clients:
            return
        event = await self.event()
        for queue in list(self.clients):
            with contextlib.suppress(asyncio.QueueFull):  # a stuck client misses one
                queue.put_nowait(event)

    def close(self) -> None:
        for queue in list(self.clients):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)

    async def on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        try:
            if topic == OnAirNow.TOPIC:
                self.now = parse(OnAirNow, payload)
                self.payload = payload
                await self.broadcast()
            elif topic == ScheduleChanged.TOPIC:
                await self.broadcast()  # "what is next" may have changed
            elif topic.startswith("status/"):
                status = parse(WorkerStatus, payload)
                self.statuses[topic] = json.loads(status.model_dump_json())
        except ValueError as exc:
            log.debug("bad %s payload ignored: %s", topic, exc)


# --- responses ------------------------------------------------------------------------------


def render(name: str, **values: Any) -> web.Response:
    html = _TEMPLATES.get_template(name).render(**values)
    return web.Response(text=html, content_type="text/html", charset="utf-8")


@web.middleware
async def security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
        _harden(response)
        raise
    _harden(response)
    return response


def _harden(response: web.StreamResponse) -> None:
    if response.prepared:
        return
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")


def _station(ctx: Context) -> dict[str, Any]:
    return {"title": ctx.settings.feed.title, "description": ctx.settings.feed.description,
            "language": ctx.settings.feed.language, "feed_url": f"/{feed.FEED_FILE}",
            "disclosure": AI_DISCLOSURE}


def _inside(base: Path, name: str) -> Path:
    path = (base / name).resolve()
    if not path.is_relative_to(base.resolve()) or not path.is_file():
        raise web.HTTPNotFound()
    return path


# --- files ------------------------------------------------------------------------------------


async def episode_file(request: web.Request) -> web.FileResponse:
    name = request.match_info["name"]
    if not _EPISODE_FILE.match(name):
        raise web.HTTPNotFound()
    path = _inside(request.app[CTX].data.episodes_dir, name)
    return web.FileResponse(path, headers={"Content-Type": _TYPES[path.suffix]})


async def static_file(request: web.Request) -> web.FileResponse:
    name = request.match_info["name"]
    if not _STATIC_FILE.match(name):
        raise web.HTTPNotFound()
    path = _inside(STATIC_DIR, name)
    return web.FileResponse(path, headers={"Content-Type": _TYPES[path.suffix],
                                           "Cache-Control": "no-cache"})


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


async def paper_card(request: web.Request) -> web.FileResponse:
    ctx = request.app[CTX]
    path = webdata.card_path(ctx.data, request.match_info["arxiv_id"])
    if path is None:
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Type": "image/png"})


async def paper_page(request: web.Request) -> web.FileResponse:
    ctx = request.app[CTX]
    page = int(request.match_info["page"])
    path = await asyncio.to_thread(
        webdata.page_path, ctx.store, ctx.data, request.match_info["arxiv_id"], page,
        ctx.settings.playout.show_pages_only_if_licensed)
    if path is None:
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Type": "image/png"})


# --- live -------------------------------------------------------------------------------------


def stream_upstream(ctx: Context) -> str | None:
    """Where the live mp3 comes from: the playout's listener stream, else Icecast's mount."""
    playout = ctx.settings.playout
    if playout.listen_bind:
        host, _, port = playout.listen_bind.rpartition(":")
        host = host.strip("[]")
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        return f"http://{host if ':' not in host else f'[{host}]'}:{port}/radio.mp3"
    if playout.icecast_url:
        from urllib.parse import urlsplit

        parts = urlsplit(playout.icecast_url)
        if parts.hostname:
            return f"http://{parts.hostname}:{parts.port or 8000}{parts.path or '/radio.mp3'}"
    return None


async def live_stream(request: web.Request) -> web.StreamResponse:
    """Relay the station's mp3 stream, so the page and its player share one address."""
    upstream = stream_upstream(request.app[CTX])
    if upstream is None:
        raise web.HTTPServiceUnavailable(text="the live stream is not configured",
                                         headers={"Retry-After": "10"})
    timeout = aiohttp.ClientTimeout(total=None, connect=5, sock_read=30)
    session = aiohttp.ClientSession(timeout=timeout)
    try:
        upstream_response = await session.get(upstream)
    except (TimeoutError, aiohttp.ClientError, OSError) as exc:
        await session.close()
        log.info("live stream unreachable at %s: %s", upstream, exc)
        raise web.HTTPServiceUnavailable(text="the live stream is not on air right now",
                                         headers={"Retry-After": "5"}) from None
    response: web.StreamResponse | None = None
    try:
        if upstream_response.status != 200:
            raise web.HTTPServiceUnavailable(text="the live stream is not on air right now",
                                             headers={"Retry-After": "5"})
        response = web.StreamResponse(headers={
            "Content-Type": "audio/mpeg", "Cache-Control": "no-cache, no-store"})
        _harden(response)
        await response.prepare(request)
        async for chunk in upstream_response.content.iter_chunked(STREAM_CHUNK):
            await response.write(chunk)
    except (TimeoutError, ConnectionResetError, aiohttp.ClientError) as exc:
        log.debug("live stream relay ended: %s", exc)  # the listener or the stream went away
        if response is None:
            raise web.HTTPServiceUnavailable(text="the live stream is not on air right now",
                                             headers={"Retry-After": "5"}) from None
    finally:
        upstream_response.release()
        await session.close()
    return response


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the now-playing panel, at once and on every new `onair/now`."""
    live = request.app[LIVE]
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no"})
    await response.prepare(request)
    queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=16)
    live.clients.add(queue)
    try:
        await response.write(b"retry: 2000\n\n" + (await live.event()).encode())
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), SSE_PING_S)
            except TimeoutError:
                event = ": ping\n\n"
            if event is None:
                break
            await response.write(event.encode())
    except ConnectionResetError:
        pass  # the listener closed the page
    finally:
        live.clients.discard(queue)
    return response


async def onair(request: web.Request) -> web.Response:
    latest = request.app[LIVE].payload
    if latest is None:
        return web.json_response({"mode": "unknown"}, status=404)
    return web.Response(body=latest, content_type="application/json")


# --- pages ------------------------------------------------------------------------------------


def _index_values(ctx: Context, live: Live) -> dict[str, Any]:
    store, data = ctx.store, ctx.data
    coming = webdata.coming_shows(store)
    return {"now": webdata.onair_view(store, data, live.now, coming[:1]), "coming": coming,
            "episodes": webdata.episodes(store, data, 10),
            "papers": webdata.recent_papers(store, 10)}


async def index(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    values = await asyncio.to_thread(_index_values, ctx, request.app[LIVE])
    return render("index.html", **_station(ctx), **values)


async def papers(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    query = request.query.get("q", "").strip()[:200]
    how = None
    if query:
        found, how = await asyncio.to_thread(request.app[SEARCH].search, query)
    else:
        found = await asyncio.to_thread(webdata.recent_papers, ctx.store, 50)
    return render("papers.html", **_station(ctx), papers=found, query=query, how=how)


async def paper(request: web.Request) -> web.Response:
    ctx = request.app[CTX]
    arxiv_id = request.match_info["arxiv_id"]
    detail = await asyncio.to_thread(webdata.paper_detail, ctx.store, ctx.data, arxiv_id)
    if detail is None:
        raise web.HTTPNotFound(text="no such paper here")
    base = detail["paper"].arxiv_id
    related = await asyncio.to_thread(webdata.related, ctx.store, ctx.data, base)
    return render("paper.html", **_station(ctx), **detail, related=related)


# --- the operator -----------------------------------------------------------------------------


def _derive(token: str, purpose: str) -> str:
    return hmac.new(token.encode(), purpose.encode(), hashlib.sha256).hexdigest()


def _authorized(request: web.Request, token: str) -> bool:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer ") and hmac.compare_digest(
            header[7:].strip().encode(), token.encode()):
        return True
    cookie = request.cookies.get(COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(),
                                                _derive(token, "session").encode())


def _same_origin(request: web.Request) -> bool:
    """A POST must come from this page: Origin (or Referer) names this host."""
    if request.headers.get("Sec-Fetch-Site") not in (None, "same-origin", "none"):
        return False
    origin = request.headers.get("Origin") or request.headers.get("Referer")
    if not origin or origin == "null":
        return "Authorization" in request.headers  # a script with the token, not a browser
    from urllib.parse import urlsplit

    return urlsplit(origin).netloc == request.host


def _token_or_404(request: web.Request) -> str:
    token = request.app[TOKEN]
    if not token:
        raise web.HTTPNotFound(text="the operator view is off (no operator token configured)")
    return token


async def operator(request: web.Request) -> web.Response:
    token = _token_or_404(request)
    ctx = request.app[CTX]
    if not _authorized(request, token):
        response = render("signin.html", **_station(ctx), wrong=False)
        response.set_status(401)
        response.headers["WWW-Authenticate"] = 'Bearer realm="operator"'
        return response
    view = await asyncio.to_thread(webdata.operator_view, ctx.store, request.app[LIVE].statuses)
    return render("operator.html", **_station(ctx), **view, csrf=_derive(token, "csrf"),
                  message=request.query.get("done", "")[:200],
                  kinds=("daily", "weekly", "latest", "deep_dive"),
                  timezone=ctx.settings.scheduler.timezone)


async def operator_signin(request: web.Request) -> web.Response:
    token = _token_or_404(request)
    ctx = request.app[CTX]
    form = await request.post()
    given = str(form.get("token", ""))
    if not _same_origin(request) or not hmac.compare_digest(given.encode(), token.encode()):
        response = render("signin.html", **_station(ctx), wrong=True)
        response.set_status(401)
        return response
    response = web.HTTPSeeOther("/operator")
    response.set_cookie(COOKIE, _derive(token, "session"), httponly=True, samesite="Strict",
                        path="/operator", secure=request.secure)
    raise response


async def operator_schedule(request: web.Request) -> web.Response:
    token = _token_or_404(request)
    if not _authorized(request, token):
        raise web.HTTPUnauthorized(text="operator token missing or wrong",
                                   headers={"WWW-Authenticate": 'Bearer realm="operator"'})
    form = await request.post()
    if not _same_origin(request) or not hmac.compare_digest(
            str(form.get("csrf", "")).encode(), _derive(token, "csrf").encode()):
        raise web.HTTPForbidden(text="cross-site request refused (CSRF check)")
    ctx = request.app[CTX]
    try:
        message = await asyncio.to_thread(_schedule_action, ctx, dict(form))
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    await _publish_schedule(request.app[LIVE], ctx)
    from urllib.parse import quote

    raise web.HTTPSeeOther(f"/operator?done={quote(message)}")


def _schedule_action(ctx: Context, form: dict[str, Any]) -> str:
    """What `radio schedule add|pause|resume|remove` do, from the operator's form."""
    from radio.shows import schedule as sched

    action = str(form.get("action", ""))
    if action == "add":
        kind = str(form.get("kind", ""))
        default_at, default_days = ("18:00", "sun") if kind == "weekly" else ("09:00", "mon-fri")
        try:
            show_kind = sched.parse_kind(kind)
            at = sched.parse_at(str(form.get("at") or default_at))
            days = sched.parse_days(str(form.get("days") or default_days))
            tz = sched.parse_tz(str(form.get("tz") or ctx.settings.scheduler.timezone))
            cats = sched.parse_categories([str(form.get("categories") or "")])
            length = str(form.get("length") or "")
            seconds = (sched.parse_length(length) if length
                       else sched.default_length(ctx.settings, kind))
        except sched.BadSchedule as exc:
            raise ValueError(str(exc)) from None
        entry_id = sched.add_entry(ctx.store, show_kind, at, days, tz, cats, seconds)
        return f"scheduled {entry_id}: {kind} at {at} {','.join(days)} {tz}"
    try:
        entry_id = int(str(form.get("id", "")))
    except ValueError:
        raise ValueError("which schedule? (id)") from None
    changes = {"remove": lambda: sched.remove_entry(ctx.store, entry_id),
               "pause": lambda: sched.set_paused(ctx.store, entry_id, True),
               "resume": lambda: sched.set_paused(ctx.store, entry_id, False)}
    if action not in changes:
        raise ValueError(f"unknown action {action!r}")
    if not changes[action]():
        raise ValueError(f"no scheduled show with id {entry_id}")
    done = {"remove": "removed", "pause": "paused", "resume": "resumed"}[action]
    return f"{done} schedule {entry_id}"


async def _publish_schedule(live: Live, ctx: Context) -> None:
    """Wake the scheduler (it also reads the store every tick, so a miss only delays)."""
    from radio.shows import schedule as sched

    if live.bus is None:
        return
    message = await asyncio.to_thread(sched.schedule_message, ctx.store)
    try:
        await asyncio.wait_for(live.bus.publish(ScheduleChanged.TOPIC, message.to_json(),
                                                retain=True), 3)
    except Exception as exc:
        log.warning("schedule saved; not announced on the bus (%s)", exc)


# --- the app ----------------------------------------------------------------------------------


def make_app(ctx: Context, *, semantic_search: bool = True,
             token: str | None = None) -> web.Application:
    """The server's routes; `token` (default: from the environment) turns the operator on."""
    app = web.Application(middlewares=[security_headers])
    app[CTX] = ctx
    app[TOKEN] = (token if token is not None else operator_token()) or ""
    live = Live(ctx)
    app[LIVE] = live
    app[ONAIR] = {}
    app[SEARCH] = webdata.Searcher(ctx.settings, ctx.store, ctx.data, semantic=semantic_search)
    app.router.add_get("/", index)
    app.router.add_get(f"/{feed.FEED_FILE}", podcast_feed)
    app.router.add_get("/cover.png", cover)
    app.router.add_get("/episodes/{name}", episode_file)
    app.router.add_get("/static/{name}", static_file)
    app.router.add_get("/onair", onair)
    app.router.add_get("/events", events)
    app.router.add_get("/radio.mp3", live_stream)
    app.router.add_get("/papers", papers)
    app.router.add_get(f"/papers/{_ARXIV_ID}", paper)
    app.router.add_get(f"/papers/{_ARXIV_ID}/card.png", paper_card)
    app.router.add_get(f"/papers/{_ARXIV_ID}/pages/{{page:\\d{{1,4}}}}.png", paper_page)
    app.router.add_get("/operator", operator)
    app.router.add_post("/operator/signin", operator_signin)
    app.router.add_post("/operator/schedule", operator_schedule)

    async def close_streams(app: web.Application) -> None:
        live.close()

    app.on_shutdown.append(close_streams)
    return app


async def _watch(ctx: Context, live: Live) -> None:
    """Follow `onair/now`, the schedule and the workers' statuses (a plain subscriber)."""
    bus = Bus(ctx.settings, f"radio-web-{random.randrange(1 << 30)}", persistent=False,
              subscriptions=(Subscription(OnAirNow.TOPIC, qos=0, shared=False),
                             Subscription(ScheduleChanged.TOPIC, qos=0, shared=False),
                             Subscription("status/#", qos=0, shared=False)))
    live.bus = bus
    await bus.run(live.on_message)


async def serve(ctx: Context, *, semantic_search: bool = True,
                token: str | None = None) -> None:
    """Serve until cancelled. A busy address is logged, not fatal: recording goes on."""
    app = make_app(ctx, semantic_search=semantic_search, token=token)
    host, port = parse_bind(ctx.settings.http_bind)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except OSError as exc:
        log.error("HTTP server cannot listen on %s: %s", ctx.settings.http_bind, exc)
        await runner.cleanup()
        return
    log.info("HTTP server on http://%s:%d (feed %s; operator view %s)", host, port,
             feed.feed_url(ctx.settings), "on" if app[TOKEN] else "off")
    try:
        await _watch(ctx, app[LIVE])
    finally:
        await runner.cleanup()
