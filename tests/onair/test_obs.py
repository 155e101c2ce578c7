"""The obs worker against a real OBS Studio (Xvfb, software GL) over obs-websocket v5.

OBS's websocket binds 0.0.0.0, so these tests run in a private network namespace where
only loopback exists: `test_obs_suite_in_private_network` re-runs this file in one, and
the broker, nginx-rtmp and OBS all start in there. Outside it the other tests skip.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pymupdf
import pytest
from pydantic import SecretStr

from radio.config import OBSSettings, Settings
from radio.messages import OnAirNow, WorkerStatus
from radio.obs import scenes
from tests.support.harness import BusProbe, running_worker
from tests.support.nginx_rtmp import NginxRtmp
from tests.support.obs import (
    HEIGHT,
    WIDTH,
    Obs,
    can_make_private_network,
    in_private_network,
    obs_installed,
    run_in_private_network,
    screenshot,
)
from tests.support.procs import ROOT, radio

INSIDE = in_private_network()
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not obs_installed(), reason="obs-studio/Xvfb not installed")]
inside_only = pytest.mark.skipif(
    not INSIDE, reason="runs in a private network namespace: test_obs_suite_in_private_network")
CORPUS = ROOT.parent / "shared" / "corpus"
ATOM = "{http://www.w3.org/2005/Atom}"
LAYOUT = scenes.station_layout("Paper Radio", None)


# --- the outer run ------------------------------------------------------------------------

@pytest.mark.skipif(INSIDE, reason="already inside the private network namespace")
def test_obs_suite_in_private_network(tmp_path: Path) -> None:
    if not can_make_private_network():
        pytest.skip("cannot create a network namespace here (needs root or user namespaces)")
    inner = [name for name in globals() if name.startswith("test_") and
             name != "test_obs_suite_in_private_network"]
    done = run_in_private_network(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
         f"--basetemp={tmp_path / 'inner'}", str(Path(__file__).relative_to(ROOT))],
        cwd=ROOT, timeout=570)
    report = done.stdout[-12000:] + done.stderr[-3000:]
    print(report)
    assert done.returncode == 0, report
    passed = re.search(r"(\d+) passed", done.stdout)
    assert passed and int(passed.group(1)) == len(inner), report


# --- fixtures and helpers (inside) --------------------------------------------------------

@pytest.fixture
def obs(tmp_path: Path) -> Iterator[Obs]:
    with Obs(tmp_path / "obs") as running:
        yield running


def with_obs(settings: Settings, obs: Obs, **extra: Any) -> Settings:
    section = OBSSettings(url=obs.url, password=SecretStr(obs.password), poll_s=0.5,
                          reconnect_max_s=2.0, **extra)
    return settings.model_copy(update={"obs": section})


async def eventually(check: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll a blocking check in a thread until it returns something but None or False."""
    last: Any = None
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        try:
            last = await asyncio.to_thread(check)
            if last is not None and last is not False:
                return last
        except Exception as exc:  # OBS restarting, a source not there yet
            last = exc
        await asyncio.sleep(0.3)
    pytest.fail(f"timed out after {timeout}s waiting for {what}; last: {last!r}")


def ask(client: Any, request: str, **data: Any) -> dict[str, Any]:
    return client.send(request, data or None, raw=True) or {}


def scenes_complete(client: Any) -> bool:
    if ask(client, "GetSceneCollectionList")["currentSceneCollectionName"] != "Paper Radio":
        return False
    for scene, items in LAYOUT.scenes.items():
        listing = ask(client, "GetSceneItemList", sceneName=scene)["sceneItems"]
        found = [(i["sourceName"], i["inputKind"]) for i in listing[: len(items)]]
        if found != [(name, LAYOUT.sources[name].kind) for name in items]:
            return False
    return True


def text_of(client: Any, source: str) -> str:
    """What a text source is set to show (its settings, as OBS reports them)."""
    return ask(client, "GetInputSettings", inputName=source)["inputSettings"].get("text", "")


def saved_sources(obs: Obs) -> dict[str, str]:
    """The sources (name: kind) OBS has saved in the station's scene collection file."""
    saved = obs.home / ".config" / "obs-studio" / "basic" / "scenes" / "Paper_Radio.json"
    return {s["name"]: s["versioned_id"] for s in json.loads(saved.read_text())["sources"]}


def input_names(client: Any) -> set[str]:
    return {i["inputName"] for i in ask(client, "GetInputList")["inputs"]}


def program_scene(client: Any) -> str:
    return ask(client, "GetCurrentProgramScene")["currentProgramSceneName"]


def paper(data_dir: Path, pdf: str, arxiv_id: str) -> str:
    """Render page 1 of a corpus PDF where the pdf worker would; returns its data-root path."""
    relative = f"papers/{arxiv_id}/pages/001.png"
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with pymupdf.open(CORPUS / "pdf" / pdf) as doc:
        doc[0].get_pixmap(dpi=40).save(target)
    return relative


def on_air(data_dir: Path, **fields: Any) -> OnAirNow:
    """A live line about 1111.2011 (metadata from the corpus's recorded arXiv answer)."""
    entry = ET.parse(CORPUS / "api" / "legacy2016_id_list_1111.2011v2.xml").find(f"{ATOM}entry")
    assert entry is not None
    title = " ".join(entry.findtext(f"{ATOM}title", "").split())
    authors = [a.findtext(f"{ATOM}name", "") for a in entry.findall(f"{ATOM}author")]
    base = dict(mode="live", show_id="daily-2026-11-21", show_title="Daily papers", seq=1,
                speaker="Alex", text="Today we start with quantum rotors on a Bethe lattice.",
                paper_id="1111.2011", title=title, authors=authors,
                image=paper(data_dir, "1111.2011v2.pdf", "1111.2011"))
    return OnAirNow(**{**base, **fields})


def corpus_title(pdf: str) -> str:
    for line in (CORPUS / "MANIFEST.tsv").read_text().splitlines():
        cells = line.split("\t")
        if cells[0] == f"pdf/{pdf}":
            return cells[2]
    raise AssertionError(f"{pdf} not in the corpus manifest")


def title_drawn(client: Any, rows: slice, cols: slice) -> Any:
    """A screenshot of "On air" once white text shows in the title's area."""
    shot = screenshot(client, scenes.ON_AIR)
    return shot if np.asarray(shot)[rows, cols].max() > 200 else None


def title_changed(client: Any, before: Any, rows: slice, cols: slice) -> np.ndarray | None:
    """Where "On air" differs from `before`, once the title's area has changed."""
    after = np.asarray(screenshot(client, scenes.ON_AIR), dtype=int)
    diff = np.abs(after - np.asarray(before, dtype=int)).max(axis=2) > 40
    return diff if diff[rows, cols].sum() > 300 else None


def box(name: str) -> tuple[slice, slice]:
    """Rows and columns of a source's area on the test canvas (down to the next source)."""
    scale = WIDTH / scenes.REFERENCE_WIDTH
    x, y = LAYOUT.sources[name].at
    below = min((s.at[1] for s in LAYOUT.sources.values() if s.at[0] == x and s.at[1] > y),
                default=720)
    return slice(int(y * scale), int(below * scale)), slice(int(x * scale), WIDTH)


def ffprobe(path: Path) -> dict[str, Any]:
    done = subprocess.run(["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of",
                           "json", str(path)], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def mean_volume(path: Path) -> float:
    done = subprocess.run(["ffmpeg", "-nostdin", "-i", str(path), "-vn", "-af", "volumedetect",
                           "-f", "null", "-"], capture_output=True, text=True)
    found = re.search(r"mean_volume: (-?[\d.]+) dB", done.stderr)
    assert found, done.stderr[-2000:]
    return float(found.group(1))


def status_of(probe: BusProbe, where: Callable[[dict], bool], timeout: float = 30) -> Any:
    return probe.expect(WorkerStatus, topic="status/obs/test", timeout=timeout,
                        where=lambda s: where(s.detail))


# --- the tests (inside) -------------------------------------------------------------------

@inside_only
async def test_builds_scenes_and_shows_what_is_on_air(obs: Obs, settings: Settings) -> None:
    cfg = with_obs(settings, obs)
    client = obs.client()
    async with running_worker("obs", cfg, instance="test"), \
            BusProbe(cfg, ["status/obs/#"]) as probe:
        await eventually(lambda: scenes_complete(client), 60, "the station's scenes")

        first = on_air(cfg.data_dir)
        await probe.publish(first, retain=True)
        # The scene is switched after the sources are set: wait for it, then look at both.
        await eventually(lambda: text_of(client, scenes.TITLE) == first.title and
                         program_scene(client) == scenes.ON_AIR, 30, "title A on air")
        page = ask(client, "GetInputSettings", inputName=scenes.PAGE)["inputSettings"]["file"]
        assert page == str(cfg.data_dir.resolve() / first.image)
        assert text_of(client, scenes.AUTHORS).startswith(first.authors[0])
        assert text_of(client, scenes.CAPTION) == f"Alex: {first.text}"
        rows, cols = box(scenes.TITLE)
        before = await eventually(lambda: title_drawn(client, rows, cols), 30, "title A shown")

        title = corpus_title("1804.07821v1.pdf")
        second = on_air(cfg.data_dir, seq=2, title=title)
        await probe.publish(second, retain=True)
        await eventually(lambda: text_of(client, scenes.TITLE) == title, 30, "title B")
        diff = await eventually(lambda: title_changed(client, before, rows, cols), 30,
                                "the new title on screen")
        outside = diff.copy()
        outside[rows, cols] = False
        assert outside.sum() < 50, "only the title's area should change"
        assert screenshot(client, scenes.ON_AIR).size == (WIDTH, HEIGHT)

        fallback = OnAirNow(mode="fallback", text="You are listening to Paper Radio.")
        await probe.publish(fallback, retain=True)
        await eventually(lambda: program_scene(client) == scenes.INTERMISSION, 20,
                         "the intermission scene")
        await probe.publish(on_air(cfg.data_dir, seq=3), retain=True)
        await eventually(lambda: program_scene(client) == scenes.ON_AIR, 20, "back on air")
        await probe.publish(OnAirNow(mode="idle"), retain=True)
        await eventually(lambda: program_scene(client) == scenes.STARTING_SOON, 20,
                         "starting soon")

        status = await status_of(probe, lambda d: d.get("scene") == scenes.STARTING_SOON)
        assert status.detail["connected"] and status.detail["fps"] > 0
        assert status.detail["streaming"] is False and "dropped_frames" in status.detail
    client.disconnect()


@inside_only
async def test_streams_and_records_on_command(obs: Obs, settings: Settings,
                                              tmp_path: Path) -> None:
    rtmp_dir = Path(tempfile.mkdtemp(prefix="obs-rtmp-"))  # nginx's worker is `nobody`
    os.chmod(rtmp_dir, 0o755)
    tone = tmp_path / "station.mp3"
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i",
                    "sine=frequency=440:duration=60", "-b:a", "96k", str(tone)], check=True)
    nginx = NginxRtmp(rtmp_dir).start()
    try:
        cfg = with_obs(settings, obs, stream_url=nginx.ingest_url, audio_url=str(tone),
                       stream_key=SecretStr("paper-radio-test"))
        client = obs.client()
        async with running_worker("obs", cfg, instance="test"), \
                BusProbe(cfg, ["status/obs/#"]) as probe:
            await eventually(lambda: scenes_complete(client), 60, "the station's scenes")
            await probe.publish(on_air(cfg.data_dir), retain=True)
            for args in (["stream", "start"], ["stream", "start", "--recording"]):
                done = await asyncio.to_thread(radio, args, cfg)
                assert done.returncode == 0, done.stderr
            await eventually(lambda: ask(client, "GetStreamStatus")["outputBytes"] > 100_000,
                             60, "OBS streaming to nginx")
            assert ask(client, "GetRecordStatus")["outputActive"]
            status = await status_of(probe, lambda d: d.get("streaming") is True and
                                     d.get("recording") is True)
            assert status.detail["stream_wanted"] and status.detail["record_wanted"]
            # Wait on OBS's own output clocks, not the wall clock: a loaded machine
            # renders fewer frames per wall second.
            await eventually(lambda: ask(client, "GetRecordStatus")["outputDuration"] >= 6500
                             and ask(client, "GetStreamStatus")["outputDuration"] >= 6500,
                             90, "six seconds streamed and recorded")
            for args in (["stream", "stop"], ["stream", "stop", "--recording"]):
                done = await asyncio.to_thread(radio, args, cfg)
                assert done.returncode == 0, done.stderr
            await eventually(lambda: not ask(client, "GetStreamStatus")["outputActive"] and
                             not ask(client, "GetRecordStatus")["outputActive"], 30,
                             "the outputs to stop")
        client.disconnect()
    finally:
        nginx.stop()
    try:
        flvs = nginx.recordings()
        assert flvs and flvs[0].name.startswith("paper-radio-test")
        assert_video(flvs[0], min_seconds=5)
        assert mean_volume(flvs[0]) > -40, "the station's audio should be in the stream"
        recordings = sorted(obs.record_dir.glob("*.flv"))
        assert recordings, "OBS wrote no recording"
        assert_video(recordings[0], min_seconds=5)
    finally:
        shutil.rmtree(rtmp_dir, ignore_errors=True)


def assert_video(path: Path, min_seconds: float) -> None:
    probe = ffprobe(path)
    kinds = {s["codec_type"]: s for s in probe["streams"]}
    assert kinds["video"]["codec_name"] == "h264"
    assert (kinds["video"]["width"], kinds["video"]["height"]) == (WIDTH, HEIGHT)
    assert kinds["audio"]["codec_name"] == "aac"
    assert float(probe["format"]["duration"]) >= min_seconds


@inside_only
async def test_survives_obs_being_killed_and_restarted(tmp_path: Path,
                                                       settings: Settings) -> None:
    obs = Obs(tmp_path / "obs").start()
    try:
        cfg = with_obs(settings, obs)
        async with running_worker("obs", cfg, instance="test") as worker, \
                BusProbe(cfg, ["status/obs/#"]) as probe:
            client = obs.client()
            await eventually(lambda: scenes_complete(client), 60, "the station's scenes")
            now = on_air(cfg.data_dir)
            await probe.publish(now, retain=True)
            await eventually(lambda: text_of(client, scenes.TITLE) == now.title, 30, "title")
            # Damage the collection by hand and wait for OBS to save it that way.
            ask(client, "RemoveInput", inputName=scenes.CAPTION)
            ask(client, "RemoveScene", sceneName=scenes.STARTING_SOON)
            ask(client, "RemoveInput", inputName=scenes.AUTHORS)
            await eventually(lambda: scenes.AUTHORS not in input_names(client), 10, "removal")
            ask(client, "CreateInput", sceneName=scenes.ON_AIR, inputName=scenes.AUTHORS,
                inputKind="color_source_v3", sceneItemEnabled=True)  # right name, wrong kind
            client.disconnect()
            damaged = {scenes.AUTHORS: "color_source_v3", scenes.CAPTION: None,
                       scenes.STARTING_SOON: None}
            await eventually(lambda: all(saved_sources(obs).get(name) == kind
                                         for name, kind in damaged.items()),
                             20, "OBS to save the damaged collection")
            await asyncio.to_thread(obs.stop)
            await status_of(probe, lambda d: d.get("connected") is False)

            await asyncio.to_thread(obs.start)  # with the damaged collection: the worker repairs
            # OBS's own start-up under software GL plus the back-off: allow a minute and a half.
            await status_of(probe, lambda d: d.get("connected") is True and
                            d.get("reconnects", 0) >= 1, timeout=90)
            client = obs.client()
            await eventually(lambda: scenes_complete(client), 30, "a repaired OBS")
            assert text_of(client, scenes.CAPTION) == f"Alex: {now.text}"
            client.disconnect()

            await asyncio.to_thread(obs.kill)  # a crash this time, and news while it is down
            later = on_air(cfg.data_dir, seq=2, title=corpus_title("1804.07821v1.pdf"))
            await probe.publish(later, retain=True)
            await asyncio.to_thread(obs.start)
            status = await status_of(probe, lambda d: d.get("connected") is True and
                                     d.get("reconnects", 0) >= 2, timeout=90)
            client = obs.client()
            await eventually(lambda: scenes_complete(client) and
                             text_of(client, scenes.TITLE) == later.title, 30, "OBS after a crash")
            assert status.detail["scene"] == scenes.ON_AIR
            assert worker.failed == 0
            client.disconnect()
    finally:
        obs.stop()
