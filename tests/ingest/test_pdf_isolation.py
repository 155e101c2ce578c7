"""The parse in a child process: same result, a timeout that stops it, all-or-nothing output."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import pytest

from radio.config import PdfSettings
from radio.ingest.pdf_images import CardInfo
from radio.ingest.pdf_parse import EncryptedPdf, ParseTimeout, parse_isolated, parse_to_dir
from tests.ingest.pdf_corpus import BAD, PDF

CARD = CardInfo(arxiv_id="2304.02623", title="Beyond Summarization")
SHORT = PDF / "2304.02623v1.pdf"


def _leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if p.name.startswith(".")]


def test_isolated_parse_matches_in_process(tmp_path: Path) -> None:
    isolated = parse_isolated(SHORT, tmp_path / "iso" / "v1", CARD, PdfSettings())
    local = parse_to_dir(SHORT, tmp_path / "local", CARD, PdfSettings())
    assert isolated == local
    assert isolated.sections[:3] == ["ABSTRACT", "KEYWORDS", "1 INTRODUCTION"]
    out = tmp_path / "iso" / "v1"
    assert (out / "text.txt").read_text() == (tmp_path / "local" / "text.txt").read_text()
    assert len(list((out / "pages").glob("*.png"))) == 4
    assert _leftovers(tmp_path / "iso") == []


def test_timeout_stops_a_slow_parse(tmp_path: Path) -> None:
    parse_isolated(SHORT, tmp_path / "warm", CARD, PdfSettings())  # start the fork server
    limits = PdfSettings(timeout_s=0.3)
    started = time.monotonic()
    with pytest.raises(ParseTimeout, match=r"longer than 0\.3 s"):
        parse_isolated(PDF / "2308.08155v2.pdf", tmp_path / "slow" / "v2", CARD, limits)
    assert time.monotonic() - started < 5  # 43 pages with images take far longer
    assert not any(p.name.startswith("pdf-parse") for p in multiprocessing.active_children())
    assert not (tmp_path / "slow" / "v2").exists()
    assert _leftovers(tmp_path / "slow") == []


def test_a_failed_parse_keeps_the_earlier_output(tmp_path: Path) -> None:
    out = tmp_path / "paper" / "v1"
    parse_isolated(SHORT, out, CARD, PdfSettings())
    before = (out / "text.txt").read_text()
    with pytest.raises(EncryptedPdf):
        parse_isolated(BAD / "2206.01062_pg3_encrypted_password-1234.pdf", out, CARD,
                       PdfSettings())
    assert (out / "text.txt").read_text() == before
    assert _leftovers(tmp_path / "paper") == []


def test_a_second_parse_replaces_the_output_whole(tmp_path: Path) -> None:
    out = tmp_path / "paper" / "v1"
    parse_isolated(PDF / "2308.08155v2.pdf", out, CARD, PdfSettings(max_pages=3))
    assert len(list((out / "pages").glob("*.png"))) == 3
    result = parse_isolated(SHORT, out, CARD, PdfSettings(max_pages=2))
    assert result.pages == 4 and sorted(p.name for p in (out / "pages").iterdir()) == [
        "001.png", "002.png"]
    assert "Beyond Summarization" in (out / "text.txt").read_text()
    assert _leftovers(tmp_path / "paper") == []
