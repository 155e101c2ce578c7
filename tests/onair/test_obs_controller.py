"""The obs worker without OBS: what each source shows, commands, and an OBS that is not there.

(The same worker against a real OBS is in test_obs.py.)
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest
from pydantic import SecretStr
from typer.testing import CliRunner

from radio.cli import app
from radio.config import OBSSettings, PlayoutSettings, Settings, get_settings
from radio.messages import Command, ErrorReport, OnAirNow, WorkerStatus
from radio.obs import scenes
from radio.workers.obs import ObsWorker
from tests.support.harness import BusProbe, running_worker
from tests.support.ports import free_port

SECRET = "obs-password-that-must-not-leak"


def offline(settings: Settings) -> Settings:
    """Settings that point the worker at a port where no OBS listens."""
    section = OBSSettings(url=f"ws://127.0.0.1:{free_port()}", password=SecretStr(SECRET),
                          poll_s=0.2, reconnect_max_s=0.5)
    return settings.model_copy(update={"obs": section})


def cli_on_bus(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    """Point the in-process CLI at the test's broker."""
    monkeypatch.setenv("RADIO_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RADIO_BUS__EMBEDDED_PORT", str(settings.bus.embedded_port))
    get_settings.cache_clear()


async def command(probe: BusProbe, action: str) -> None:
    await probe.publish_raw("commands/obs", Command(worker="obs", action=action).to_json())


def test_contents_follow_the_line_on_air(tmp_path: Path) -> None:
    now = OnAirNow(mode="live", show_title="Daily papers", speaker="Mira",
                   text="It  beats\nthe baseline.", paper_id="1804.07821",
                   title="An Aggregated Multicolumn Dilated Convolution Network",
                   authors=[f"Author {i}" for i in range(9)])
    shown = scenes.contents(now, tmp_path / "page.png")
    assert shown[scenes.TITLE] == {"text": now.title}
    assert shown[scenes.CAPTION] == {"text": "Mira: It beats the baseline."}
    assert shown[scenes.AUTHORS]["text"].startswith("Author 0, Author 1")
    assert "et al." in shown[scenes.AUTHORS]["text"]
    assert shown[scenes.AUTHORS]["text"].endswith("arXiv:1804.07821")
    assert shown[scenes.PAGE] == {"file": str(tmp_path / "page.png")}
    assert scenes.contents(OnAirNow(mode="idle"), None)[scenes.PAGE] == {"file": ""}


def test_long_text_is_clipped() -> None:
    clipped = scenes.clip("word " * 200, 220)
    assert len(clipped) <= 220 and clipped.endswith("…")


def test_modes_pick_the_scene() -> None:
    assert scenes.SCENE_FOR_MODE == {"live": "On air", "fallback": "Intermission",
                                     "ident": "Intermission", "idle": "Starting soon"}


def test_audio_defaults_to_the_listener_stream(settings: Settings, ctx) -> None:
    playout = PlayoutSettings(icecast_url="icecast://127.0.0.1:8123/radio.mp3")
    ctx.settings = settings.model_copy(update={"playout": playout})
    worker = ObsWorker(ctx, "t")
    audio = worker.layout.sources[scenes.AUDIO].settings["input"]
    assert audio == "http://127.0.0.1:8123/radio.mp3"


def test_image_must_stay_under_the_data_root(ctx) -> None:
    worker = ObsWorker(ctx, "t")
    page = ctx.data.root / "papers" / "1804.07821" / "pages" / "001.png"
    page.parent.mkdir(parents=True)
    page.write_bytes(b"png")
    assert worker._image(OnAirNow(mode="live", image="papers/1804.07821/pages/001.png")) == page
    assert worker._image(OnAirNow(mode="live", image="../../etc/passwd")) is None
    assert worker._image(OnAirNow(mode="live", image="papers/missing.png")) is None
    worker.settings = ctx.settings.model_copy(update={"obs": OBSSettings(data_dir="/mnt/radio")})
    shown = worker._image(OnAirNow(mode="live", image="papers/1804.07821/pages/001.png"))
    assert shown == Path("/mnt/radio/papers/1804.07821/pages/001.png")


@pytest.mark.slow
async def test_without_obs_the_worker_waits_and_remembers_commands(
        settings: Settings, caplog: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    caplog.set_level(logging.DEBUG)
    cfg = offline(settings)
    cli_on_bus(monkeypatch, cfg)
    async with running_worker("obs", cfg, instance="t") as worker, \
            BusProbe(cfg, ["status/obs/#", "errors"]) as probe:
        await command(probe, "stream_start")
        status = await probe.expect(WorkerStatus, topic="status/obs/t", timeout=20,
                                    where=lambda s: s.detail.get("stream_wanted") is True)
        assert status.state == "online" and status.detail["connected"] is False
        assert "cannot connect to OBS" in status.detail["error"]
        assert "cannot connect to OBS" in (status.last_error or "")  # `radio status` says why
        shown = await asyncio.to_thread(CliRunner().invoke, app, ["stream", "status", "--json"])
        assert json.loads(shown.output)["t"]["connected"] is False

        await command(probe, "launch_rockets")
        error = await probe.expect(ErrorReport, timeout=10)
        assert "unknown command 'launch_rockets'" in error.reason

        await probe.publish_raw(OnAirNow.TOPIC, b'{"mode": "on fire"}', retain=True)
        error = await probe.expect(ErrorReport, timeout=10, where=lambda e: "OnAirNow" in e.reason)
        assert error.topic == "onair/now"

        await asyncio.sleep(1.5)  # several reconnect attempts
        task = next(t for t in asyncio.all_tasks() if t.get_name() == "obs-background")
        assert not task.done()
        assert worker.reconnects == 0  # never connected, so nothing was lost
    assert SECRET not in caplog.text
    assert all(SECRET not in payload.decode() for _, payload in probe.received)


async def test_stream_cli_sends_commands(settings: Settings,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    cli_on_bus(monkeypatch, settings)
    async with BusProbe(settings, ["commands/obs"]) as probe:
        for args, action in ((["stream", "start"], "stream_start"),
                             (["stream", "stop", "--recording"], "record_stop")):
            done = await asyncio.to_thread(CliRunner().invoke, app, args)
            assert done.exit_code == 0, done.output
            await probe.expect(Command, topic="commands/obs", timeout=10,
                               where=lambda c, a=action: c.action == a)
