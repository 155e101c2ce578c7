"""arXiv's rule, measured at the stand-in: one request at a time, >= 3 s apart, all hosts."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest

from radio.config import Settings
from radio.ingest.download import download_pdf
from radio.ingest.polite import PoliteClient
from radio.ingest.sources import ArxivSources
from tests.support.arxiv_standin import ArxivStandIn
from tests.support.settings import make_settings


def _gaps(times: list[float]) -> list[float]:
    return [later - earlier for earlier, later in itertools.pairwise(times)]


@pytest.mark.slow
async def test_three_seconds_between_requests_across_api_rss_oai_pdf(
        tmp_path: Path, standin: ArxivStandIn) -> None:
    settings = standin.configure(make_settings(tmp_path / "data"))
    assert settings.fetcher.min_request_interval_s == 3.0  # the default: really wait
    async with PoliteClient(settings.fetcher) as polite:
        sources = ArxivSources(polite, settings)
        await sources.lookup(["1111.2011v2"])
        await sources.daily_listing(["cs.AI"])
        await sources.licence("1412.8544")
        await download_pdf(polite, f"{standin.base_url}/pdf/2305.03393v1", tmp_path / "x.pdf",
                           max_bytes=10_000_000, timeout_s=30)
    paths = [r.path for r in standin.requests]
    assert paths == ["/api/query", "/rss/cs.AI", "/oai", "/pdf/2305.03393v1"]
    gaps = _gaps(standin.times())
    assert all(gap >= 3.0 for gap in gaps), gaps
    assert all(gap < 4.5 for gap in gaps), gaps  # polite, not idle


async def test_concurrent_callers_take_turns(offline_settings: Settings,
                                             standin: ArxivStandIn) -> None:
    fetcher = offline_settings.fetcher.model_copy(update={"min_request_interval_s": 0.3})
    async with PoliteClient(fetcher) as polite:
        urls = [f"{standin.base_url}/rss/cs.AI", f"{standin.base_url}/oai?verb=Identify",
                f"{standin.base_url}/pdf/2305.03393v1", f"{standin.base_url}/rss/cs.LG"]
        responses = await asyncio.gather(*(polite.get(url) for url in urls))
    assert [r.status_code for r in responses] == [200] * 4
    gaps = _gaps(standin.times())
    assert len(gaps) == 3 and all(gap >= 0.3 for gap in gaps), gaps


async def test_processes_sharing_a_data_root_share_the_turn(
        offline_settings: Settings, standin: ArxivStandIn, tmp_path: Path) -> None:
    # Two clients with the same lock file stand for the station and `radio ingest`.
    fetcher = offline_settings.fetcher.model_copy(update={"min_request_interval_s": 0.4})
    lock = tmp_path / ".arxiv-last-request"
    async with PoliteClient(fetcher, lock_file=lock) as one, \
            PoliteClient(fetcher, lock_file=lock) as two:
        await asyncio.gather(*(client.get(f"{standin.base_url}/rss/cs.AI")
                               for client in (one, two, one, two)))
    gaps = _gaps(standin.times())
    assert len(gaps) == 3 and all(gap >= 0.4 for gap in gaps), gaps
