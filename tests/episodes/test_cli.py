"""`radio episodes list` and `radio feed url`, run as a user runs them."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from radio.cli import app
from radio.config import get_settings
from tests.support.episodes import SHOW_ID, SHOW_TITLE, Recorded, insert_episode


def test_episodes_list_shows_the_recorded_episode(recorded: Recorded,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    insert_episode(recorded.ctx, recorded.episode)
    monkeypatch.setenv("RADIO_DATA_DIR", str(recorded.settings.data_dir))
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["episodes", "list", "--json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    assert row["show_id"] == SHOW_ID and row["title"] == SHOW_TITLE
    assert row["bytes"] == recorded.episode.paths.mp3.stat().st_size


def test_feed_url_follows_the_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    monkeypatch.setenv("RADIO_HTTP_BIND", "127.0.0.1:8123")
    get_settings.cache_clear()
    assert runner.invoke(app, ["feed", "url"]).output.strip() == "http://127.0.0.1:8123/podcast.xml"
    monkeypatch.setenv("RADIO_FEED__PUBLIC_URL", "https://radio.example.org/")
    get_settings.cache_clear()
    assert runner.invoke(app, ["feed", "url"]).output.strip() == \
        "https://radio.example.org/podcast.xml"


def test_episodes_record_refuses_a_recorded_show_and_a_bad_id(
        recorded: Recorded, monkeypatch: pytest.MonkeyPatch) -> None:
    insert_episode(recorded.ctx, recorded.episode)
    monkeypatch.setenv("RADIO_DATA_DIR", str(recorded.settings.data_dir))
    get_settings.cache_clear()
    runner = CliRunner()
    again = runner.invoke(app, ["episodes", "record", SHOW_ID])
    assert again.exit_code == 2 and "already recorded" in again.output
    bad = runner.invoke(app, ["episodes", "record", "../radio"])
    assert bad.exit_code == 2 and "not a show id" in bad.output
    missing = runner.invoke(app, ["episodes", "record", "weekly-2026-01-01"])
    assert missing.exit_code == 2 and "no voiced segments" in missing.output
