"""obs: drives OBS Studio (obs-websocket v5) from the on-air state.

Consumes no work topic. It follows the retained `onair/now` state, latest wins: each
change updates the page image and the text sources and picks the scene ("On air",
"Intermission" while playout falls back, "Starting soon" when idle). On `commands/obs`
it starts and stops streaming and recording (stream_start, stream_stop, record_start,
record_stop). It builds or repairs its scene collection on every connect, reconnects
with back-off when OBS goes away (and restarts the outputs it was told to keep running),
and reports OBS's state (streaming, dropped frames, fps) in its status.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from radio import retry
from radio.messages import Command, Message, OnAirNow
from radio.obs import ObsClient, ObsRequestError, ObsUnavailable, scenes
from radio.worker import Context, Worker

# action -> (OBS output, running?)
ACTIONS = {"stream_start": ("Stream", True), "stream_stop": ("Stream", False),
           "record_start": ("Record", True), "record_stop": ("Record", False)}


class ObsWorker(Worker[OnAirNow]):
    name = "obs"
    consumes = ()
    produces = ()
    # `onair/now` is state, not work: no inbox (one row per line, 24/7, and a replay of
    # stale lines at restart), not shared between instances.
    follows = (OnAirNow,)

    def __init__(self, ctx: Context, instance: str | None = None) -> None:
        super().__init__(ctx, instance)
        self._wanted: dict[str, bool] = {}  # output -> should run (from commands)
        self._enforce = False  # apply `_wanted` at the next sync (a command or a reconnect)
        self._state: dict[str, Any] = {"connected": False, "url": ctx.settings.obs.url}
        self.reconnects = 0
        self.layout = scenes.station_layout(self.settings.feed.title, self._audio_url())
        self._now: OnAirNow | None = None
        self._wake = asyncio.Event()
        self._shown: dict[str, dict[str, Any]] = {}  # what OBS shows now, per source
        self._scene: str | None = None

    # --- the bus side ----------------------------------------------------------------

    async def on_state(self, message: Message) -> None:
        if isinstance(message, OnAirNow):  # the one state obs follows
            self._now = message
            self._wake.set()

    async def on_command(self, command: Command) -> None:
        if command.action not in ACTIONS:
            await self.report_error(command.TOPIC.format(worker=self.name), command.id,
                                    f"unknown command {command.action!r}; known: "
                                    f"{', '.join(ACTIONS)}")
            return
        output, running = ACTIONS[command.action]
        self._wanted[output] = running
        self._enforce = True
        self._wake.set()
        if not self._state["connected"]:
            self.log.info("OBS is offline; %s will happen when it is back", command.action)

    def status_detail(self) -> dict[str, Any]:
        wanted = {f"{o.lower()}_wanted": on for o, on in self._wanted.items()}
        return {**self._state, **wanted, "reconnects": self.reconnects}

    # --- the OBS side ----------------------------------------------------------------

    async def background(self) -> None:
        """Stay connected to OBS forever; nothing OBS does may stop this loop."""
        backoff = retry.Backoff(1.0, self.settings.obs.reconnect_max_s)
        async for attempt in retry.forever(backoff):
            with attempt:
                await self._connect_once(backoff)

    async def _connect_once(self, backoff: retry.Backoff) -> None:
        """One OBS connection, until it is lost; says why, raises nothing but a cancel."""
        cfg = self.settings.obs
        obs = ObsClient(cfg.url, cfg.secret(), cfg.timeout_s)
        try:
            version = await obs.connect()
            backoff.reset()
            await self._session(obs, version)
        except ObsUnavailable as exc:
            await self._lost(str(exc))
        except Exception as exc:  # a refused request or a bug: reconnect, never die
            self.log.exception("OBS session failed")
            await self._lost(f"{type(exc).__name__}: {exc}")
            await self.report_error("obs", None, f"OBS session failed: {exc}"[:1000])
        finally:
            obs.shutdown()

    async def _lost(self, reason: str) -> None:
        was_connected = self._state["connected"]
        known = self._state.get("error") == reason[:300]
        self._state = {"connected": False, "url": self.settings.obs.url, "error": reason[:300]}
        self.last_error = f"OBS: {reason}"[:300]  # `radio status` shows why there is no picture
        if was_connected:
            self.reconnects += 1
            self.log.warning("lost OBS: %s; reconnecting", reason)
            await self._say_status()
            if self.bus.connected.is_set():  # the operator hears of it; the air plays on
                await self.report_error("obs", "obs", f"lost OBS: {reason}"[:1000])
        elif not known:  # say it once, not at every retry
            self.log.warning("%s; will keep trying", reason)

    async def _session(self, obs: ObsClient, version: dict[str, Any]) -> None:
        self.log.info("connected to OBS %s (websocket %s) at %r", version.get("obsVersion"),
                      version.get("obsWebSocketVersion"), obs)
        self.last_error = None
        await self._use_collection(obs)
        fixed = await scenes.build(obs, self.layout)
        if fixed:
            self.log.info("built or repaired in OBS: %s", "; ".join(fixed))
        await self._configure_stream(obs)
        self._shown, self._scene = {}, None
        self._enforce = self._enforce or bool(self._wanted)
        while True:
            self._wake.clear()
            await self._show(obs)
            if self._enforce:
                self._enforce = False
                await self._drive_outputs(obs)
            await self._poll(obs)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.settings.obs.poll_s):
                    await self._wake.wait()

    async def _use_collection(self, obs: ObsClient) -> None:
        name = self.settings.obs.collection
        listing = await obs.call("GetSceneCollectionList")
        if listing["currentSceneCollectionName"] == name:
            return
        request = ("SetCurrentSceneCollection" if name in listing["sceneCollections"]
                   else "CreateSceneCollection")
        await obs.call(request, sceneCollectionName=name)
        self.log.info("OBS scene collection %r selected", name)

    async def _configure_stream(self, obs: ObsClient) -> None:
        server = self.settings.obs.stream_url or self.settings.playout.rtmp_url
        if not server or (await obs.call("GetStreamStatus"))["outputActive"]:
            return
        key = self.settings.obs.stream_secret() or self.settings.playout.rtmp_stream_key() or ""
        await obs.call("SetStreamServiceSettings", streamServiceType="rtmp_custom",
                       streamServiceSettings={"server": server, "key": key, "use_auth": False})

    async def _show(self, obs: ObsClient) -> None:
        """Make OBS show `onair/now`, sending only what changed."""
        now = self._now
        if now is None:
            return
        for name, settings in scenes.contents(now, self._image(now)).items():
            if self._shown.get(name) != settings:
                await obs.call("SetInputSettings", inputName=name, inputSettings=settings,
                               overlay=True)
                self._shown[name] = settings
        scene = scenes.SCENE_FOR_MODE[now.mode]
        if scene != self._scene:
            await obs.call("SetCurrentProgramScene", sceneName=scene)
            self._scene = scene

    def _image(self, now: OnAirNow) -> Path | None:
        if not now.image:
            return None
        try:
            path = self.data.resolve(now.image)
        except ValueError as exc:
            self.log.warning("onair/now image refused: %s", exc)
            return None
        if not path.is_file():
            return None
        seen_from_obs = self.settings.obs.data_dir
        return seen_from_obs / path.relative_to(self.data.root) if seen_from_obs else path

    async def _drive_outputs(self, obs: ObsClient) -> None:
        for output, running in self._wanted.items():
            status = await obs.call(f"Get{output}Status")
            if status["outputActive"] == running:
                continue
            try:
                answer = await obs.call(f"{'Start' if running else 'Stop'}{output}")
            except ObsRequestError as exc:
                await self.report_error("commands/obs", output.lower(), str(exc))
                continue
            self.log.info("OBS %s %s%s", output.lower(), "started" if running else "stopped",
                          f": {answer['outputPath']}" if answer.get("outputPath") else "")

    async def _poll(self, obs: ObsClient) -> None:
        stats = await obs.call("GetStats")
        stream = await obs.call("GetStreamStatus")
        record = await obs.call("GetRecordStatus")
        scene = await obs.call("GetCurrentProgramScene")
        state = {
            "connected": True, "url": self.settings.obs.url,
            "scene": scene["currentProgramSceneName"],
            "streaming": stream["outputActive"], "reconnecting": stream["outputReconnecting"],
            "stream_timecode": stream["outputTimecode"],
            "dropped_frames": stream["outputSkippedFrames"],
            "stream_frames": stream["outputTotalFrames"],
            "recording": record["outputActive"],
            "fps": round(stats["activeFps"], 2),
            "render_skipped_frames": stats["renderSkippedFrames"],
            "cpu_percent": round(stats["cpuUsage"], 1),
            "memory_mb": round(stats["memoryUsage"], 1),
        }
        changed = any(self._state.get(k) != state[k]
                      for k in ("connected", "streaming", "recording", "scene"))
        self._state = state
        if changed:
            await self._say_status()

    async def _say_status(self) -> None:
        """Publish the status now (not at the next heartbeat) when the broker is there."""
        if self.bus.connected.is_set():
            await self.publish_status()

    def _audio_url(self) -> str | None:
        if self.settings.obs.audio_url:
            return self.settings.obs.audio_url
        icecast = self.settings.playout.icecast_url
        if not icecast:
            return None
        parts = urlsplit(icecast)  # icecast://host:port/mount -> what a listener opens
        return f"http://{parts.hostname}:{parts.port or 8000}{parts.path}"
