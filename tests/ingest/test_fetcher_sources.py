"""arXiv's API, RSS and OAI-PMH through the polite client, against the local stand-in."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime

import arxiv
import pytest

from radio.artifacts import DataRoot, InvalidId, parse_arxiv_id
from radio.config import Settings
from radio.ingest.download import pdf_filename
from radio.ingest.ingestor import Ingestor
from radio.ingest.polite import FetchError, PoliteClient
from radio.ingest.sources import ArxivApiError, ArxivSources
from radio.store import Store
from tests.support.arxiv_standin import NONEXCLUSIVE, ArxivStandIn

CC_BY = "http://creativecommons.org/licenses/by/4.0/"


@pytest.fixture
async def sources(offline_settings: Settings):
    async with PoliteClient(offline_settings.fetcher) as polite:
        yield ArxivSources(polite, offline_settings)


@pytest.mark.parametrize(("raw", "base", "version", "filename"), [
    ("2501.10120v1", "2501.10120", 1, "2501.10120v1.pdf"),
    ("2312.10997", "2312.10997", None, "2312.10997v1.pdf"),
    ("https://arxiv.org/abs/2312.10997v5", "2312.10997", 5, "2312.10997v5.pdf"),
    ("oai:arXiv.org:2604.21935v1", "2604.21935", 1, "2604.21935v1.pdf"),
    ("astro-ph/0601001", "astro-ph/0601001", None, "0601001v1.pdf"),
    ("quant-ph/0201082v1", "quant-ph/0201082", 1, "0201082v1.pdf"),
    ("math.GT/0309136v2", "math.GT/0309136", 2, "0309136v2.pdf"),
])
def test_ids_new_and_old_style(raw: str, base: str, version: int | None, filename: str,
                               tmp_path) -> None:
    assert parse_arxiv_id(raw) == (base, version)
    assert pdf_filename(raw, version or 1) == filename
    path = DataRoot(tmp_path).paper_dir(raw) / filename
    assert path.is_relative_to(tmp_path / "papers")


@pytest.mark.parametrize("raw", ["abc", "../../etc/passwd", "2501.101", "2501.10120v",
                                 "astro-ph/060100", "2501.10120/../x", ""])
async def test_bad_ids_are_refused_before_any_request(raw: str, offline_settings: Settings,
                                                      standin: ArxivStandIn, tmp_path) -> None:
    with pytest.raises(InvalidId):
        parse_arxiv_id(raw)
    store = Store(offline_settings.database_path)
    ingestor = Ingestor(offline_settings, store, DataRoot(offline_settings.data_dir))
    try:
        [outcome] = await ingestor.fetch_ids([raw])
    finally:
        await ingestor.aclose()
        store.close()
    assert outcome.error and "not an arXiv id" in outcome.error
    assert standin.requests == []


async def test_api_lookup_of_recorded_entries(sources: ArxivSources) -> None:
    found = await sources.lookup(["1111.2011v2", "astro-ph/0601001", "quant-ph/0201082v1"])
    paper = found["1111.2011v2"]
    assert paper.title == ("Quantum Criticality for Extended Nodes on a Bethe Lattice in the "
                           "Large Connectivity Limit")
    assert paper.authors == ["James M. Murray", "Adrian Del Maestro", "Zlatko Tesanovic"]
    assert paper.primary_category == "cond-mat.str-el"
    assert paper.categories == ["cond-mat.str-el", "cond-mat.stat-mech"]
    assert paper.published == datetime(2011, 11, 8, 18, 48, 36, tzinfo=UTC)
    assert paper.abstract.startswith("Theoretical description of anisotropic systems")
    old = found["astro-ph/0601001"]
    assert (old.arxiv_id, old.version) == ("astro-ph/0601001", 1)
    assert old.title.startswith("Frequency of Hot Jupiters and Very Hot Jupiters")
    assert found["quant-ph/0201082v1"].authors == ["Stephen Blaha"]


async def test_api_entry_built_from_first_page(sources: ArxivSources) -> None:
    # The corpus has no recorded API entry for 2312.10997v5: the stand-in builds it from
    # the PDF's first page, so this checks the stand-in reads the paper right.
    paper = (await sources.lookup(["2312.10997v5"]))["2312.10997v5"]
    assert paper.title == "Retrieval-Augmented Generation for Large Language Models: A Survey"
    assert paper.version == 5
    assert paper.primary_category == "cs.CL"
    assert paper.authors[:2] == ["Yunfan Gao", "Yun Xiong"]
    assert paper.abstract.startswith("Large Language Models (LLMs) showcase impressive "
                                     "capabilities but encounter challenges like hallucination")


async def test_api_error_feed_http400_is_a_clear_error(sources: ArxivSources,
                                                       standin: ArxivStandIn) -> None:
    with pytest.raises(ArxivApiError, match="arXiv API error: incorrect id format for abc"):
        await sources.results(arxiv.Search(id_list=["abc"]))
    assert [r.status for r in standin.requests] == [400]  # a 400 is not retried


async def test_zero_result_feeds_are_clear_errors(offline_settings: Settings,
                                                  standin: ArxivStandIn) -> None:
    store = Store(offline_settings.database_path)
    ingestor = Ingestor(offline_settings, store, DataRoot(offline_settings.data_dir))
    try:
        outcomes = await ingestor.fetch_ids(["0000.0000", "0808.05394"])
    finally:
        await ingestor.aclose()
        store.close()
    assert [o.error for o in outcomes] == [
        "arXiv has no paper 0000.0000 (the API returned no entry)",
        "arXiv has no paper 0808.05394 (the API returned no entry)"]
    assert not any(r.path.startswith("/pdf/") for r in standin.requests)


async def test_rss_listing_carries_licence_and_announce_type(sources: ArxivSources) -> None:
    listing = await sources.daily_listing(["cs.AI"])
    by_id = {paper.key: paper for paper in listing}
    assert list(by_id) == ["2604.21935v1", "2604.21936v1", "2604.21937v1"]
    first = by_id["2604.21935v1"]
    assert first.licence_url == CC_BY
    assert by_id["2604.21936v1"].licence_url == NONEXCLUSIVE
    assert first.announce_type == "new"
    assert first.title == "Math Takes Two: A test for emergent mathematical reasoning in " \
        "communication"
    assert first.authors == ["Michael Cooper", "Samuel Cooper"]
    assert first.categories == ["cs.AI", "cs.LG"]
    assert first.abstract.startswith("Although language models demonstrate remarkable")
    assert "Announce Type" not in first.abstract


async def test_rss_categories_in_one_request_without_duplicates(
        sources: ArxivSources, standin: ArxivStandIn) -> None:
    standin.listing("cs.CL", ["2312.10997v5", "2304.02623v1"])
    standin.listing("cs.AI", ["2312.10997v5"], announce_type="cross")
    listing = await sources.daily_listing(["cs.CL", "cs.AI"])
    assert [paper.key for paper in listing] == ["2312.10997v5", "2304.02623v1"]
    assert [r.path for r in standin.requests] == ["/rss/cs.CL+cs.AI"]


async def test_oai_licence(sources: ArxivSources, standin: ArxivStandIn) -> None:
    assert await sources.licence("1412.8544") == NONEXCLUSIVE
    assert await sources.licence("hep-th/9504118") is None  # recorded without <license>
    assert await sources.licence("2312.10997") is None  # idDoesNotExist
    asked = [r.query.get("identifier") for r in standin.requests]
    assert asked[0] == "oai:arXiv.org:1412.8544" and asked[-1] == "oai:arXiv.org:2312.10997"


@pytest.mark.slow
async def test_503_retry_after_is_honoured(sources: ArxivSources, standin: ArxivStandIn) -> None:
    standin.fault("/oai", "503", retry_after=2)
    start = time.monotonic()
    assert await sources.licence("1412.8544") == NONEXCLUSIVE
    assert time.monotonic() - start >= 2.0
    first, second = standin.requests
    assert (first.status, first.fault, second.status) == (503, "503", 200)
    assert second.at - first.at >= 2.0


@pytest.mark.slow
async def test_429_backs_off_with_growing_waits(offline_settings: Settings,
                                                standin: ArxivStandIn) -> None:
    fetcher = offline_settings.fetcher.model_copy(update={"backoff_base_s": 0.4,
                                                          "max_attempts": 4})
    async with PoliteClient(fetcher) as polite:
        standin.fault("/rss/", "429", times=3)
        response = await polite.get(f"{standin.base_url}/rss/cs.AI")
    assert response.status_code == 200
    times = standin.times("/rss/")
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) == 3
    # Back-off 0.4, 0.8, 1.6 s, each jittered down by at most half.
    for gap, ceiling in zip(gaps, (0.4, 0.8, 1.6), strict=True):
        assert ceiling * 0.5 <= gap <= ceiling + 0.5


async def test_retry_after_beyond_the_cap_fails_fast(offline_settings: Settings,
                                                     standin: ArxivStandIn) -> None:
    standin.fault("/oai", "503", retry_after=3600)
    async with PoliteClient(offline_settings.fetcher) as polite:
        start = time.monotonic()
        with pytest.raises(FetchError, match=r"asks to wait 3[0-9]{3} s, more than max_backoff"):
            await polite.get(f"{standin.base_url}/oai", params={"verb": "Identify"})
    assert time.monotonic() - start < 2
    assert len(standin.requests) == 1


async def test_server_that_never_answers_times_out(offline_settings: Settings,
                                                   standin: ArxivStandIn) -> None:
    fetcher = offline_settings.fetcher.model_copy(update={"request_timeout_s": 0.5,
                                                          "max_attempts": 2})
    standin.fault("/rss/", "hang", times=None)
    async with PoliteClient(fetcher) as polite:
        start = time.monotonic()
        with pytest.raises(FetchError, match=r"did not answer within 0.5 s .*gave up after 2"):
            await polite.get(f"{standin.base_url}/rss/cs.AI")
    assert time.monotonic() - start < 5
    assert [r.fault for r in standin.requests] == ["hang", "hang"]
