"""Titles and authors with markup, shell metacharacters and SQL: stored and shown as the
text they are, in the operator's terminal too (rich markup is escaped), never run.

(The web page and the title card: tests/web/test_web_http.py, test_web_browser.py and
tests/ingest/test_pdf_parse.py::test_title_card_shows_untrusted_metadata_as_text.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from radio.config import Settings
from radio.store import Store
from tests.support.procs import ROOT

ARXIV_ID = "2604.99077"


def hostile(tmp_path: Path) -> tuple[str, list[str]]:
    marker = tmp_path / "pwned"
    title = (f"[bold red]Loud[/] $(touch {marker}) `touch {marker}`; rm -rf ~ | cat & "
             f"<b>bold</b> \"quoted\" 'single' [/] %s {{0}} \\x1b[31m")
    authors = ["Robert'); DROP TABLE papers;--", "[link=file:///etc/passwd]Eve[/link]",
               f"$(touch {marker})", "\x1b]8;;http://evil.example\x07Mallory\x1b]8;;\x07"]
    return title, authors


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    cfg = Settings(data_dir=tmp_path / "data")
    title, authors = hostile(tmp_path)
    store = Store.open(cfg)
    try:
        with store.transaction() as t:
            t.upsert_paper(ARXIV_ID, 1, title=title, authors=authors, abstract="An abstract.",
                           categories=["cs.LG"], primary_category="cs.LG",
                           published="2026-04-20T00:00:00Z", licence_url=None, source="api")
    finally:
        store.close()
    return cfg


def radio(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT), "COLUMNS": "400",
           "RADIO_CONFIG": str(settings.data_dir / "none.toml"),
           "RADIO_DATA_DIR": str(settings.data_dir)}
    return subprocess.run([sys.executable, "-m", "radio", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("args", [("papers", "list"), ("papers", "show", ARXIV_ID)])
@pytest.mark.slow
def test_the_cli_shows_hostile_metadata_as_text(settings: Settings, tmp_path: Path,
                                                args: tuple[str, ...]) -> None:
    done = radio(settings, *args)
    assert done.returncode == 0, done.stderr
    assert "[bold red]Loud[/]" in done.stdout  # rich did not read it as markup
    if args[1] == "show":
        assert "Robert'); DROP TABLE papers;--" in done.stdout
        assert "[link=file:///etc/passwd]Eve[/link]" in done.stdout
    assert "\x1b]8;;" not in done.stdout and "\x1b[31m" not in done.stdout  # no escapes out
    assert not (tmp_path / "pwned").exists()  # nothing was run


def test_the_store_keeps_it_verbatim(settings: Settings, tmp_path: Path) -> None:
    store = Store.open(settings)
    try:
        paper = store.paper(ARXIV_ID)
        count = len(store.papers())
    finally:
        store.close()
    title, authors = hostile(tmp_path)
    assert paper is not None and paper["title"] == title
    assert json.loads(paper["authors"]) == authors
    assert count == 1  # the table is still there
