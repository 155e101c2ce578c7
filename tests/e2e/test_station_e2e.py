"""The whole chain, end to end: from arXiv's listing to a voiced show on air and in the feed.

The arXiv stand-in serves two corpus papers as today's cs.CL listing; fetcher, pdf,
summarizer, embeddings, writer, tts, recorder and playout run as separate processes
(`radio worker NAME`) on a real mosquitto, with the default models and voices; the
show is asked for with the CLI (`radio show run daily`). What comes out is checked where
a listener and a podcast app would see it: the Icecast mount, the retained `onair/now`,
the episode's mp3 chapters and transcript, and the podcast feed.

On failure the message carries the tail of every worker's log.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import feedparser
import pytest
import webvtt

from radio.config import Settings
from radio.messages import (
    EpisodeRecorded,
    ErrorReport,
    Message,
    OnAirNow,
    PaperEmbedded,
    PaperParsed,
    PaperSummarized,
    SegmentVoiced,
    ShowWritten,
)
from radio.shows.script import Script
from tests.support.arxiv_standin import ArxivStandIn
from tests.support.harness import BusProbe
from tests.support.icecast import SOURCE_PASSWORD, Icecast
from tests.support.mosquitto import Mosquitto
from tests.support.ports import free_port
from tests.support.procs import ROOT, radio_env, spawn, statuses, stop, wait_for
from tests.support.settings import make_settings

pytestmark = pytest.mark.slow

PAPERS = {"2304.02623": "2304.02623v1", "2312.10997": "2312.10997v5"}
CHAIN = ["pdf", "summarizer", "embeddings", "writer", "tts", "recorder", "playout"]
SHOW_ID = "daily-e2e"
CHAIN_TIMEOUT_S = 1380  # real models on 2 cores; a busy machine needs the room
STOP_TIMEOUT_S = 30  # then SIGKILL
TOPICS = [m.TOPIC for m in (PaperParsed, PaperSummarized, PaperEmbedded, ShowWritten,
                            SegmentVoiced, EpisodeRecorded, OnAirNow, ErrorReport)]
# Small but real: a two-minute show, each part written once (then the checked
# extractive fallback), summaries from fewer passages. The models are the defaults.
TUNING = {
    "RADIO_CATEGORIES": "cs.CL",
    "RADIO_WRITER__DISCUSSION_COUNT": "2",
    "RADIO_WRITER__MAX_REGENERATIONS": "0",
    "RADIO_LLM__SUMMARY_PASSAGES": "6",
    "RADIO_LLM__SUMMARY_REGENERATIONS": "0",
}


class Station:
    """The worker processes, their logs, and the tail of each for failure messages."""

    def __init__(self, folder: Path, settings: Settings, env: dict[str, str]) -> None:
        self.folder, self.settings, self.env = folder, settings, env
        self.procs: dict[str, subprocess.Popen] = {}
        self.started = time.monotonic()
        self.progress: list[str] = []
        self.waiting = "start-up"

    def step(self, done: str, next_: str) -> None:
        """Note what is done (printed, for the run's timings) and what comes next."""
        self.progress.append(f"{done} after {time.monotonic() - self.started:.0f}s")
        print(f"e2e: {self.progress[-1]}", flush=True)
        self.waiting = next_

    def start(self, name: str) -> None:
        self.procs[name] = spawn(["worker", name, "--instance", "e2e"], self.settings,
                                 self.log(name), **self.env)

    def log(self, name: str) -> Path:
        return self.folder / f"{name}.log"

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "radio", *args], cwd=ROOT,
                              env=radio_env(self.settings, **self.env), capture_output=True,
                              text=True, timeout=timeout)

    def online(self, names: list[str]) -> dict | None:
        dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
        if dead:
            raise AssertionError(f"workers exited: {dead}")
        try:
            found = {s["worker"]: s for s in statuses(self.settings).values()
                     if s["instance"] == "e2e"}
        except RuntimeError:
            return None
        return found if all(found.get(n, {}).get("state") == "online" for n in names) else None

    def tails(self, lines: int = 25) -> str:
        parts = []
        for name in self.procs:
            text = self.log(name).read_text(errors="replace") if self.log(name).is_file() else ""
            tail = "\n".join(text.splitlines()[-lines:])
            parts.append(f"----- {name} (exit {self.procs[name].poll()}) -----\n{tail}")
        return "\n".join(parts)

    def stop(self) -> dict[str, float]:
        """SIGTERM to every worker at once; seconds each took to exit (inf: killed)."""
        signalled = time.monotonic()
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        took: dict[str, float] = {}
        while len(took) < len(self.procs) and time.monotonic() - signalled < STOP_TIMEOUT_S:
            for name, proc in self.procs.items():
                if name not in took and proc.poll() is not None:
                    took[name] = time.monotonic() - signalled
            time.sleep(0.1)
        for name, proc in self.procs.items():
            if name not in took:
                stop(proc, signal.SIGKILL)
                took[name] = float("inf")
        return took


@pytest.fixture
def icecast(tmp_path: Path) -> Iterator[Icecast]:
    with Icecast(tmp_path / "icecast") as server:
        yield server


@pytest.fixture
def arxiv() -> Iterator[ArxivStandIn]:
    with ArxivStandIn() as standin:
        yield standin


@pytest.mark.timeout(CHAIN_TIMEOUT_S + 120)
async def test_arxiv_listing_to_voiced_show_on_air_and_in_the_feed(
        tmp_path: Path, corpus: Path, mosquitto: Mosquitto, icecast: Icecast,
        arxiv: ArxivStandIn) -> None:
    cfg = make_settings(tmp_path / "data", broker_url=mosquitto.url)
    bind = f"127.0.0.1:{free_port()}"
    env = {**arxiv.env(min_request_interval_s=0.05, backoff_base_s=0.1, max_backoff_s=5.0),
           **TUNING, "RADIO_HTTP_BIND": bind,
           "RADIO_PLAYOUT__ICECAST_URL": icecast.source_url(),
           "RADIO_PLAYOUT__ICECAST_PASSWORD": SOURCE_PASSWORD,
           "RADIO_PLAYOUT__LISTEN_BIND": f"127.0.0.1:{free_port()}"}
    station = Station(tmp_path, cfg, env)
    try:
        async with asyncio.timeout(CHAIN_TIMEOUT_S):
            await _run_the_chain(station, cfg, icecast, arxiv, bind)
    except (AssertionError, TimeoutError) as exc:
        raise AssertionError(
            f"{type(exc).__name__} while waiting for {station.waiting}: {exc}\n"
            f"done: {'; '.join(station.progress) or 'nothing'}\n\n"
            f"worker logs:\n{station.tails()}") from exc
    finally:
        took = station.stop()
    print(f"e2e: stopped by SIGTERM, all at once: {took}", flush=True)
    # Eight model-laden processes exiting at once on two cores: each must exit by itself,
    # cleanly (the 10 s bound of one `radio up` is tests/foundation/test_station.py's).
    unclean = {n: p.returncode for n, p in station.procs.items() if p.returncode != 0}
    assert not unclean and max(took.values()) < STOP_TIMEOUT_S, \
        f"stop: took {took}, exit codes {unclean}\n{station.tails()}"
    left = {s["worker"]: s["state"] for s in statuses(cfg).values() if s["instance"] == "e2e"}
    assert set(left.values()) == {"offline"}, f"retained statuses after the stop: {left}"


async def _run_the_chain(station: Station, cfg: Settings, icecast: Icecast,
                         arxiv: ArxivStandIn, bind: str) -> None:
    # Every consumer subscribes before the fetcher announces anything.
    for name in CHAIN:
        station.start(name)
    await asyncio.to_thread(wait_for, lambda: station.online(CHAIN), 300, 2,
                            "every worker of the chain online")
    station.step("chain online", "the papers: parsed, summarized, embedded")
    async with BusProbe(cfg, TOPICS) as probe:
        arxiv.listing("cs.CL", list(PAPERS.values()))
        station.start("fetcher")
        for model in (PaperParsed, PaperSummarized, PaperEmbedded):
            await _each_paper(probe, model, 300)
        station.step("papers parsed, summarized, embedded", "the show to be written")

        asked = await asyncio.to_thread(station.cli, "show", "run", "daily", "--length", "2m",
                                        "--id", SHOW_ID)
        assert asked.returncode == 0, f"radio show run: {asked.stdout}{asked.stderr}"
        written = await probe.expect(ShowWritten, timeout=900,
                                     where=lambda m: m.show_id == SHOW_ID)
        station.step("show written", "lines about each paper on air")
        assert set(written.paper_ids) == set(PAPERS), written.paper_ids

        # On air: the clock puts the hosts' lines about each paper on the listener stream.
        for paper_id in PAPERS:
            await probe.expect(OnAirNow, timeout=300, where=lambda m, p=paper_id:
                               m.mode == "live" and m.show_id == SHOW_ID and m.paper_id == p)
        station.step("both papers on air", "the listener stream, the episode")
        await asyncio.to_thread(_check_listener_streams, icecast,
                                f"http://{station.env['RADIO_PLAYOUT__LISTEN_BIND']}/radio.mp3")
        await _check_retained_onair(cfg)

        recorded = await probe.expect(EpisodeRecorded, timeout=300,
                                      where=lambda m: m.show_id == SHOW_ID)
        station.step("episode recorded", "the checks of what came out")
        errors = [f"{e.worker}: {e.reason}" for e in probe.messages(ErrorReport)]
    script = Script.model_validate_json((cfg.data_dir / written.script.path).read_bytes())
    _check_onair_lines(probe.messages(OnAirNow), script)
    _check_episode(cfg, recorded, script)
    _check_feed(bind, recorded)
    assert not [e for e in errors if "papers/" in e], f"errors on the way: {errors}"


async def _each_paper(probe: BusProbe, model: type[Message], timeout: float) -> None:
    for arxiv_id in PAPERS:
        await probe.expect(model, timeout=timeout,  # type: ignore[type-var]
                           where=lambda m, a=arxiv_id: getattr(m, "arxiv_id", None) == a)


def _check_listener_streams(icecast: Icecast, own_url: str) -> None:
    """Icecast has the source mounted; a player hears mp3 there and on the station's own URL."""
    mounts = [s for s in icecast.sources() if s.get("listenurl", "").endswith("/radio.mp3")]
    assert mounts, f"no source on the icecast mount: {icecast.sources()}"
    for url in (icecast.url(), own_url):
        probed = subprocess.run(
            ["ffprobe", "-v", "error", "-rw_timeout", "15000000", "-show_entries",
             "stream=codec_type,codec_name", "-of", "json", url],
            capture_output=True, text=True, timeout=60)
        streams = json.loads(probed.stdout or "{}").get("streams", [])
        assert [(s["codec_type"], s["codec_name"]) for s in streams] == [("audio", "mp3")], \
            f"ffprobe on the listener URL {url}: {probed.stdout}{probed.stderr}"


async def _check_retained_onair(cfg: Settings) -> None:
    """A listener's page that connects now is told what is on air, from the retained topic."""
    async with BusProbe(cfg, [OnAirNow.TOPIC]) as late:
        now = await late.expect(OnAirNow, timeout=15)
    assert now.mode in ("live", "fallback", "ident"), now


def _check_onair_lines(aired: list[OnAirNow], script: Script) -> None:
    live = [m for m in aired if m.mode == "live" and m.show_id == SHOW_ID]
    lines = script.lines
    for now in live:
        assert now.seq is not None and 0 <= now.seq < len(lines), now
        line = lines[now.seq]
        assert (now.speaker, now.text, now.paper_id) == (line.speaker, line.text,
                                                         line.paper_id), now
    named = {m.paper_id: m.title for m in live if m.paper_id}
    assert set(named) == set(PAPERS), f"papers on air: {named}"
    for paper_id, title in named.items():
        assert title and _words(title) & _words(script_title(script, paper_id)), (paper_id,
                                                                                  title)


def script_title(script: Script, paper_id: str) -> str:
    return next(ref.title for slot in script.rundown.slots for ref in slot.papers
                if ref.arxiv_id == paper_id)


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z]{4,}", text.lower()))


def _check_episode(cfg: Settings, recorded: EpisodeRecorded, script: Script) -> None:
    mp3 = cfg.data_dir / recorded.mp3.path
    probed = subprocess.run(["ffprobe", "-v", "error", "-show_chapters", "-show_streams",
                             "-of", "json", str(mp3)], capture_output=True, text=True, timeout=60)
    info = json.loads(probed.stdout)
    audio = [s["codec_name"] for s in info["streams"] if s["codec_type"] == "audio"]
    assert audio == ["mp3"], probed.stdout  # beside the cover art
    titles = [c.get("tags", {}).get("title", "") for c in info["chapters"]]
    assert len(titles) == len(PAPERS), f"chapters: {titles}"
    for paper_id in PAPERS:
        wanted = _words(script_title(script, paper_id))
        assert any(len(_words(t) & wanted) >= min(3, len(wanted)) for t in titles), \
            f"no chapter names {paper_id} ({script_title(script, paper_id)}): {titles}"
    cues = webvtt.read(str(cfg.data_dir / recorded.transcript.path))
    said = [(c.voice, " ".join(html.unescape(c.text).split())) for c in cues]
    assert said == [(line.speaker, " ".join(line.text.split())) for line in script.lines], \
        "the transcript is the script, line for line"


def _check_feed(bind: str, recorded: EpisodeRecorded) -> None:
    parsed = feedparser.parse(f"http://{bind}/podcast.xml")
    assert not parsed.bozo, parsed.bozo_exception
    items = [e for e in parsed.entries if e.get("title") == recorded.title]
    assert items, f"episode {recorded.title!r} not in the feed: {[e.title for e in parsed.entries]}"
    enclosures = [link.href for link in items[0].enclosures]
    assert any(href.endswith(Path(recorded.mp3.path).name) for href in enclosures), enclosures

