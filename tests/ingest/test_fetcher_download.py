"""PDF downloads: whole PDFs land atomically; bad ones are refused with the reason."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from radio.artifacts import DataRoot
from radio.config import Settings
from radio.ingest.download import BadDownload, download_pdf
from radio.ingest.ingestor import Ingestor
from radio.ingest.polite import FetchError, PoliteClient
from radio.store import Store
from tests.support.arxiv_standin import ArxivStandIn


def manifest(corpus: Path) -> dict[str, dict[str, str]]:
    with (corpus / "MANIFEST.tsv").open(newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}


async def test_pdf_is_streamed_hashed_and_renamed_into_place(
        offline_settings: Settings, standin: ArxivStandIn, corpus: Path) -> None:
    data = DataRoot(offline_settings.data_dir)
    target = data.paper_dir("2304.02623") / "2304.02623v1.pdf"
    async with PoliteClient(offline_settings.fetcher) as polite:
        pdf = await download_pdf(polite, f"{standin.base_url}/pdf/2304.02623v1", target,
                                 max_bytes=10_000_000, timeout_s=30)
    row = manifest(corpus)["pdf/2304.02623v1.pdf"]
    assert pdf.sha256 == row["sha256"] and pdf.bytes == int(row["bytes"])
    assert target.read_bytes() == (corpus / "pdf/2304.02623v1.pdf").read_bytes()
    assert sorted(p.name for p in target.parent.iterdir()) == ["2304.02623v1.pdf"]


@pytest.mark.parametrize(("fault", "error", "reason"), [
    ("html", BadDownload, "got an HTML page instead of a PDF: arXiv: PDF unavailable"),
    ("empty", BadDownload, "empty download (0 bytes)"),
    ("truncated", BadDownload, "truncated PDF: no %%EOF at the end of 81065 bytes"),
    ("drop", FetchError, "download interrupted"),
])
async def test_bad_downloads_are_refused_and_leave_nothing(
        fault: str, error: type[Exception], reason: str, offline_settings: Settings,
        standin: ArxivStandIn, tmp_path: Path) -> None:
    standin.fault("/pdf/", fault)
    target = tmp_path / "paper" / "2305.03393v1.pdf"
    async with PoliteClient(offline_settings.fetcher) as polite:
        with pytest.raises(error) as caught:
            await download_pdf(polite, f"{standin.base_url}/pdf/2305.03393v1", target,
                               max_bytes=10_000_000, timeout_s=30)
    assert reason in str(caught.value)
    assert list(target.parent.iterdir()) == []  # no PDF, no temp file


async def test_size_cap(offline_settings: Settings, standin: ArxivStandIn,
                        tmp_path: Path) -> None:
    target = tmp_path / "big.pdf"
    async with PoliteClient(offline_settings.fetcher) as polite:
        with pytest.raises(BadDownload, match="PDF too large: 1662567 bytes > cap 1000000"):
            await download_pdf(polite, f"{standin.base_url}/pdf/2312.10997v5", target,
                               max_bytes=1_000_000, timeout_s=30)
    assert not target.exists()


@pytest.mark.parametrize(("fault", "reason"), [
    ("html", "got an HTML page instead of a PDF"),
    ("empty", "empty download (0 bytes)"),
    ("truncated", "truncated PDF"),
    ("404", "not found from"),
])
async def test_failed_paper_is_marked_failed_with_the_reason(
        fault: str, reason: str, offline_settings: Settings, standin: ArxivStandIn) -> None:
    if fault != "404":
        standin.fault("/pdf/", fault)
    paper = "2305.03393v1" if fault != "404" else "1605.08386"  # recorded entry, no PDF
    store = Store(offline_settings.database_path)
    ingestor = Ingestor(offline_settings, store, DataRoot(offline_settings.data_dir))
    try:
        [outcome] = await ingestor.fetch_ids([paper])
    finally:
        await ingestor.aclose()
    base, version = paper.split("v")[0], 1
    row = store.stage_row(base, version, "fetch")
    assert outcome.error and reason in outcome.error
    assert (row["status"], row["detail"]) == ("failed", outcome.error)
    assert store.versions() == []
    store.close()
