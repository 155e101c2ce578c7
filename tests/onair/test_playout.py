"""The playout worker on air: real icecast2, real nginx-rtmp, real ffmpeg, real voices.

Lines are real corpus sentences voiced by flite. What is asserted is what a listener or
a viewer gets: the mp3 stream (ffprobe, silencedetect), the recorded flv (ffprobe), the
retained onair/now messages, the onair/ files, and the store after a restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import subprocess
import time
from pathlib import Path

import pytest
from pydantic import SecretStr

from radio.artifacts import DataRoot
from radio.config import PlayoutSettings, Settings
from radio.ingest.pdf_images import CardInfo, render_title_card
from radio.messages import OnAirNow
from radio.playout import visuals
from radio.store import Store
from tests.onair.voicing import add_paper, pdf_paper, sentences, voice_show
from tests.support.harness import BusProbe, running_worker
from tests.support.icecast import SOURCE_PASSWORD, Icecast
from tests.support.nginx_rtmp import NginxRtmp

CC_BY = "http://creativecommons.org/licenses/by/4.0/"
ARXIV_DEFAULT = "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
STREAM_KEY = "live_test_5ecret_key"
SHORT_IDENT = "Paper Radio."


def playout(settings: Settings, **fields: object) -> Settings:
    fields = {"ident_text": SHORT_IDENT, "bed_s": 6.0, "listen_bind": None, **fields}
    cfg = PlayoutSettings(**fields)
    return settings.model_copy(update={"playout": cfg})


def ffprobe(path: Path | str, *extra: str) -> dict:
    done = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                           "stream=codec_name,codec_type,width,height:format=duration",
                           "-of", "json", *extra, str(path)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def silences(path: Path, noise_db: int = -50, min_s: float = 2.0) -> list[float]:
    """Durations of the silences ffmpeg's silencedetect finds in a recording."""
    done = subprocess.run(["ffmpeg", "-nostdin", "-v", "info", "-i", str(path), "-af",
                           f"silencedetect=noise={noise_db}dB:d={min_s}", "-f", "null", "-"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    found = [float(d) for d in re.findall(r"silence_duration: ([\d.]+)", done.stderr)]
    if "silence_start" in done.stderr and not found:  # silent up to the end
        found.append(float("inf"))
    return found


async def eventually(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await asyncio.to_thread(check):
            return
        await asyncio.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def live_after(probe: BusProbe, since: float) -> list[OnAirNow]:
    return [m for m in probe.messages(OnAirNow)
            if m.mode == "live" and m.started_at.timestamp() >= since]


@pytest.mark.slow
async def test_listener_stream_never_goes_silent(settings: Settings, corpus: Path,
                                                 tmp_path: Path) -> None:
    data = DataRoot(settings.data_dir)
    store = Store(settings.database_path)
    lines = sentences(corpus, 8)
    for paper_id in dict.fromkeys(p for p, _ in lines):
        add_paper(store, {"arxiv_id": paper_id, "title": f"Paper {paper_id}", "authors": [],
                          "abstract": ""}, ARXIV_DEFAULT)
    show = voice_show(data, "daily-2026-11-21", lines)
    recording = tmp_path / "listener.mp3"
    with Icecast(tmp_path / "icecast") as icecast:
        cfg = playout(settings, icecast_url=icecast.source_url(),
                      icecast_password=SecretStr(SOURCE_PASSWORD))
        async with running_worker("playout", cfg), BusProbe(cfg, ["onair/now"]) as probe:
            await eventually(lambda: any(s.get("listenurl", "").endswith("/radio.mp3")
                                         for s in icecast.sources()), 30, "the mount")
            listener = await asyncio.create_subprocess_exec(
                "ffmpeg", "-nostdin", "-v", "error", "-i", icecast.url(), "-t", "60",
                "-c", "copy", "-y", str(recording))
            for segment in show[:3]:
                await probe.publish(segment)
            # The writer stops feeding: the clock must fall back, and not go quiet.
            await probe.expect(OnAirNow, timeout=60, where=lambda m: m.mode == "fallback")
            await asyncio.sleep(8)
            resumed = time.time()
            for segment in show[3:]:
                await probe.publish(segment)
            back = await probe.expect(OnAirNow, timeout=15,
                                      where=lambda m: m.mode == "live" and m.seq == 3)
            assert back.started_at.timestamp() - resumed < 8, "live lines return at once"
            titles = [s.get("title", "") for s in icecast.sources()]
            await asyncio.wait_for(listener.wait(), 90)
    store.close()
    assert listener.returncode == 0
    probe_info = ffprobe(recording)
    assert [s["codec_name"] for s in probe_info["streams"]] == ["mp3"]
    assert float(probe_info["format"]["duration"]) >= 58, "a continuous minute of stream"
    assert silences(recording) == [], "no silence longer than 2 s on air"
    assert any("Paper " in title for title in titles), f"now playing titles: {titles}"
    seqs = [m.seq for m in probe.messages(OnAirNow) if m.mode == "live"]
    assert seqs == sorted(seqs) and 0 in seqs and 3 in seqs


def _paper_with_pictures(data: DataRoot, store: Store, corpus: Path, name: str,
                         licence: str) -> tuple[dict, list[str]]:
    """A corpus PDF with its first page and title card where the pdf worker puts them."""
    import pymupdf

    paper, lines = pdf_paper(corpus, name, 2)
    add_paper(store, paper, licence)
    folder = data.paper_dir(paper["arxiv_id"])
    with pymupdf.open(corpus / name) as doc:
        (folder / "pages").mkdir(parents=True, exist_ok=True)
        doc[0].get_pixmap(matrix=pymupdf.Matrix(1.5, 1.5)).save(folder / "pages" / "001.png")
    render_title_card(CardInfo(paper["arxiv_id"], paper["title"], (), paper["abstract"]),
                      folder / "title_card.png")
    return paper, lines


def test_pages_only_for_licences_that_allow_them(settings: Settings, corpus: Path) -> None:
    data = DataRoot(settings.data_dir)
    store = Store(settings.database_path)
    open_paper, _ = _paper_with_pictures(data, store, corpus, "pdf/2308.08155v2.pdf", CC_BY)
    closed, _ = _paper_with_pictures(data, store, corpus, "pdf/1804.07821v1.pdf",
                                     ARXIV_DEFAULT)
    found_open = visuals.paper(store, open_paper["arxiv_id"])
    found_closed = visuals.paper(store, closed["arxiv_id"])
    assert visuals.choose_image(data, found_open, 1).name == "001.png"
    assert visuals.choose_image(data, found_closed, 1).name == "title_card.png"
    assert visuals.choose_image(data, found_closed, 1, licensed_only=False).name == "001.png"
    assert visuals.choose_image(data, found_open, None).name == "title_card.png"
    (data.paper_dir(closed["arxiv_id"]) / "title_card.png").unlink()
    own = visuals.choose_image(data, found_closed, 1)
    assert own is not None and own.parent.name == "cards", "our own card when none is made"
    for url, allowed in [(CC_BY, True), ("https://creativecommons.org/licenses/by-sa/4.0/",
                                         True),
                         ("http://creativecommons.org/publicdomain/zero/1.0/", True),
                         ("http://creativecommons.org/licenses/by-nc-nd/4.0/", False),
                         (ARXIV_DEFAULT, False), (None, False)]:
        assert visuals.pages_allowed(url) is allowed, url
    store.close()


@pytest.mark.slow
async def test_rtmp_video_with_licence_aware_pictures(settings: Settings, corpus: Path,
                                                      tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    data = DataRoot(settings.data_dir)
    store = Store(settings.database_path)
    open_paper, open_lines = _paper_with_pictures(data, store, corpus,
                                                  "pdf/2308.08155v2.pdf", CC_BY)
    closed, closed_lines = _paper_with_pictures(data, store, corpus, "pdf/1804.07821v1.pdf",
                                                ARXIV_DEFAULT)
    store.close()
    show = voice_show(data, "daily-video", [(open_paper["arxiv_id"], t) for t in open_lines] +
                      [(closed["arxiv_id"], t) for t in closed_lines])
    nginx = NginxRtmp(tmp_path / "nginx").start()
    try:
        cfg = playout(settings, rtmp_url=nginx.ingest_url, rtmp_key=SecretStr(STREAM_KEY))
        async with running_worker("playout", cfg), BusProbe(cfg, ["onair/now"]) as probe:
            started = time.monotonic()
            for segment in show:
                await probe.publish(segment)
            images = {}
            for segment in show:
                now = await probe.expect(OnAirNow, timeout=60, where=lambda m, s=segment:
                                         m.mode == "live" and m.seq == s.seq)
                images[now.paper_id] = now.image
                caption = (data.root / "onair" / "caption.txt").read_text()
                assert now.text in caption or caption.strip() == ""  # the files follow
            await asyncio.sleep(2)
            seconds = time.monotonic() - started
            onair = data.root / "onair"
            current = (onair / "current.png").read_bytes()
            assert current == (data.root / images[closed["arxiv_id"]]).read_bytes()
            assert (onair / "arxiv_id.txt").read_text().strip() == closed["arxiv_id"]
    finally:
        nginx.stop()
    assert images[open_paper["arxiv_id"]].endswith("pages/001.png"), images
    assert images[closed["arxiv_id"]].endswith("title_card.png"), images
    flvs = nginx.recordings()
    assert flvs and flvs[0].name.startswith(STREAM_KEY)
    try:
        info = ffprobe(flvs[0])
    finally:
        nginx.remove()
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next(s for s in info["streams"] if s["codec_type"] == "audio")
    assert (video["codec_name"], video["width"], video["height"]) == ("h264", 1280, 720)
    assert audio["codec_name"] == "aac"
    duration = float(info["format"]["duration"])
    assert seconds - 10 <= duration <= seconds + 2, (duration, seconds)
    assert STREAM_KEY not in caplog.text, "the stream key must never be logged"
    assert "-rtmp_tcurl" in caplog.text, "the command line is logged (the relay's URL)"


@pytest.mark.slow
@pytest.mark.usefixtures("database_url")
async def test_a_restart_resumes_the_timeline(settings: Settings, corpus: Path) -> None:
    data = DataRoot(settings.data_dir)
    show = voice_show(data, "daily-restart", sentences(corpus, 5))
    cfg = playout(settings)
    async with running_worker("playout", cfg), BusProbe(cfg, ["onair/now"]) as probe:
        for segment in show:
            await probe.publish(segment)
        await probe.expect(OnAirNow, timeout=60, where=lambda m: m.mode == "live" and m.seq == 1)
        await asyncio.sleep(0.5)  # the worker stops in the middle of line 1
    store = Store.open(settings)
    aired = {seq for _, seq in store.aired_at(["daily-restart"])}
    assert aired == {0}
    assert store.get_kv("playout.position") == {"show_id": "daily-restart", "seq": 1,
                                                "finished": False}
    restarted = time.time()
    async with running_worker("playout", cfg), BusProbe(cfg, ["onair/now"]) as probe:
        await probe.expect(OnAirNow, timeout=90, where=lambda m: m.mode == "live" and
                           m.seq == 4 and m.started_at.timestamp() >= restarted)
        await asyncio.sleep(show[4].duration_s + 1)
        assert [m.seq for m in live_after(probe, restarted)] == [1, 2, 3, 4], \
            "the cut line again, then the rest of the show; nothing from before"
    aired = {seq for _, seq in store.aired_at(["daily-restart"])}
    store.close()
    assert aired == {0, 1, 2, 3, 4}
