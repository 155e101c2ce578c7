"""`radio papers list` and `radio papers show` on a store the pdf worker filled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from radio.cli import app
from radio.cli.common import console
from radio.config import get_settings
from radio.worker import Context, PermanentError
from radio.workers.pdf import PdfWorker
from tests.ingest.pdf_corpus import BAD, PDF, fetched
from tests.support.settings import make_settings


@pytest.fixture
def filled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    data = tmp_path / "data"
    ctx = Context.from_settings(make_settings(data))
    worker = PdfWorker(ctx)
    worker.process(fetched(ctx.data, PDF / "2304.02623v1.pdf", "2304.02623", 1,
                           "Beyond Summarization [bold]markup[/bold]"))
    with pytest.raises(PermanentError, match="encrypted"):
        worker.process(fetched(ctx.data, BAD / "2206.01062_pg3_encrypted_password-1234.pdf",
                               "2206.01062", 1, "DocLayNet"))
    ctx.store.close()
    monkeypatch.setenv("RADIO_DATA_DIR", str(data))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    return data


def test_papers_list(filled: Path) -> None:
    result = CliRunner().invoke(app, ["papers", "list"])
    assert result.exit_code == 0, result.output
    assert "Papers (2)" in result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()
             if line.strip().startswith("2")}
    assert "done" in lines["2304.02623"] and "failed" in lines["2206.01062"]
    failed = CliRunner().invoke(app, ["papers", "list", "--failed"])
    assert "2206.01062" in failed.output and "2304.02623" not in failed.output


def test_papers_show(filled: Path) -> None:
    result = CliRunner().invoke(app, ["papers", "show", "2206.01062"])
    assert result.exit_code == 0, result.output
    assert "failed" in result.output and "encrypted" in result.output
    good = CliRunner().invoke(app, ["papers", "show", "2304.02623v1"])
    assert "[bold]markup[/bold]" in good.output  # paper text is shown, not interpreted
    assert "page_image" in good.output and "4 pages, 7 sections" in good.output


def test_papers_show_unknown_or_invalid(filled: Path) -> None:
    missing = CliRunner().invoke(app, ["papers", "show", "2401.99999"])
    assert missing.exit_code == 2 and "not in the store" in missing.output
    invalid = CliRunner().invoke(app, ["papers", "show", "../../etc/passwd"])
    assert invalid.exit_code == 2 and "not an arXiv id" in invalid.output


def test_papers_list_keeps_ids_whole_in_a_narrow_terminal(filled: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The id is what a user copies: a 40-column pipe shortens titles, never ids."""
    monkeypatch.setattr(console, "width", 40)
    result = CliRunner().invoke(app, ["papers", "list"])
    assert result.exit_code == 0, result.output
    assert "2304.02623" in result.output and "2206.01062" in result.output
    assert max(len(line) for line in result.output.splitlines()) <= 40


def test_papers_list_json_has_every_field_untruncated(filled: Path) -> None:
    result = CliRunner().invoke(app, ["papers", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["arxiv_id"]: row for row in json.loads(result.output)}
    assert rows["2206.01062"]["stages"]["pdf"] == "failed"
    assert rows["2304.02623"]["stages"]["pdf"] == "done"
    assert rows["2304.02623"]["version"] == 1
