"""Malformed feeds and slow servers, from the arXiv stand-in: a clear error, in bounded
time, and the polite client's turn is free again for the next request.

(HTTP 429/500/503, a server that never answers, HTML instead of a PDF, truncated and
dropped downloads: tests/ingest/test_fetcher_sources.py and test_fetcher_download.py.)
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from radio.config import Settings
from radio.ingest.download import download_pdf
from radio.ingest.polite import FetchError, PoliteClient
from radio.ingest.sources import ArxivApiError, ArxivSources, pdf_url
from tests.support.arxiv_standin import ArxivStandIn
from tests.support.settings import FAST_FETCH, make_settings

RAG = "2312.10997v5"  # a corpus paper with a recorded API entry and a PDF


@pytest.fixture
def standin() -> Iterator[ArxivStandIn]:
    with ArxivStandIn() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, standin: ArxivStandIn) -> Settings:
    return standin.configure(make_settings(tmp_path / "data"),
                             **{**FAST_FETCH, "request_timeout_s": 2.0, "max_attempts": 2})


@pytest.fixture
async def sources(settings: Settings) -> AsyncIterator[ArxivSources]:
    async with PoliteClient(settings.fetcher) as polite:
        yield ArxivSources(polite, settings)


async def test_cut_off_api_feed_is_a_clear_error(sources: ArxivSources,
                                                 standin: ArxivStandIn) -> None:
    standin.fault("/api/", "malformed")
    with pytest.raises(ArxivApiError, match="unreadable arXiv API answer"):
        await sources.lookup([RAG])
    assert RAG in await sources.lookup([RAG])  # the next answer is read


async def test_cut_off_oai_record_is_a_clear_error(sources: ArxivSources,
                                                   standin: ArxivStandIn) -> None:
    standin.fault("/oai", "malformed")
    with pytest.raises(ArxivApiError, match=r"unreadable OAI-PMH answer for 1412\.8544"):
        await sources.licence("1412.8544")


async def test_cut_off_rss_keeps_the_whole_items_before_the_cut(
        sources: ArxivSources, standin: ArxivStandIn) -> None:
    whole = await sources.daily_listing(["cs.AI"])
    standin.fault("/rss/", "malformed")
    cut = await sources.daily_listing(["cs.AI"])
    # feedparser reads what it can: the items before the cut, none invented. The missing
    # ones come with the next poll (the fetcher deduplicates what it has seen).
    assert len(cut) < len(whole) and {m.key for m in cut} <= {m.key for m in whole}


async def test_rss_that_is_no_feed_at_all_is_a_clear_error(sources: ArxivSources,
                                                           standin: ArxivStandIn) -> None:
    standin.fault("/rss/", "empty")
    with pytest.raises(ArxivApiError, match=r"unreadable RSS listing for cs\.AI"):
        await sources.daily_listing(["cs.AI"])


@pytest.mark.parametrize("prefix", ["/api/", "/rss/", "/oai"])
@pytest.mark.slow
async def test_a_trickling_server_is_given_up_on_in_bounded_time(
        prefix: str, sources: ArxivSources, standin: ArxivStandIn) -> None:
    standin.fault(prefix, "trickle", pace=0.5)  # 128 bytes a second: alive, hopeless
    calls = {"/api/": lambda: sources.lookup([RAG]),
             "/rss/": lambda: sources.daily_listing(["cs.AI"]),
             "/oai": lambda: sources.licence("1412.8544")}
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"too slowly: not whole within 2 s"):
        await calls[prefix]()
    assert time.monotonic() - started < 6
    await calls[prefix]()  # the turn is free: the next request goes through


@pytest.mark.slow
async def test_a_trickling_pdf_download_stops_at_its_time_limit(
        settings: Settings, standin: ArxivStandIn, tmp_path: Path) -> None:
    standin.fault("/pdf/", "trickle", pace=0.2)
    target = tmp_path / "paper.pdf"
    async with PoliteClient(settings.fetcher) as polite:
        started = time.monotonic()
        with pytest.raises(FetchError, match=r"download took longer than 2 s"):
            await download_pdf(polite, pdf_url(settings, "2312.10997", 5), target,
                               max_bytes=50_000_000, timeout_s=2)
    assert time.monotonic() - started < 6
    assert list(tmp_path.iterdir()) == [tmp_path / "data"] or not target.exists()
    assert not any(p.name.startswith(".paper") for p in tmp_path.iterdir())  # no temp file


async def test_http_500_is_retried_then_given_up_on(sources: ArxivSources,
                                                    standin: ArxivStandIn) -> None:
    standin.fault("/rss/", "500")
    assert await sources.daily_listing(["cs.AI"])  # one 500, then the answer
    standin.fault("/rss/", "500", times=None)
    with pytest.raises(FetchError, match=r"HTTP 500 from .*gave up after 2 attempts"):
        await sources.daily_listing(["cs.AI"])
    assert [r.status for r in standin.requests] == [500, 200, 500, 500]
