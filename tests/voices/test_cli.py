"""`radio voices`: check the configured voices, try one on a line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import soundfile as sf
from typer.testing import CliRunner

from radio.cli import app
from radio.config import get_settings
from tests.support.voices import Paper

runner = CliRunner()


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("RADIO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()


def test_check_passes_on_the_defaults() -> None:
    result = runner.invoke(app, ["voices", "check"])
    assert result.exit_code == 0, result.output
    assert "Alex: piper:joe ok" in result.output and "Mira: hibari:heart ok" in result.output


def test_check_names_the_bad_voice(monkeypatch: pytest.MonkeyPatch) -> None:
    hosts = [{"name": "Alex", "persona": "host", "voice": "piper:joe"},
             {"name": "Mira", "persona": "host", "voice": "flite:nobody"}]
    monkeypatch.setenv("RADIO_WRITER__HOSTS", json.dumps(hosts))
    get_settings.cache_clear()
    result = runner.invoke(app, ["voices", "check"])
    assert result.exit_code == 2
    assert "Mira: flite:nobody: no such flite voice" in " ".join(result.output.split())


def test_say_writes_the_line_as_the_worker_would(paper: Paper, tmp_path: Path) -> None:
    out = tmp_path / "line.wav"
    result = runner.invoke(app, ["voices", "say", paper.sentences[5], "--voice", "flite:slt",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "C.P.U.'s" in result.output  # "CPUs", as the voice was given it
    info = sf.info(out)
    assert (info.samplerate, info.channels) == (24000, 1) and info.duration > 2
