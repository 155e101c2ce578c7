"""`radio status` stays one line per worker, piped (80 columns) or in a narrow terminal."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from rich.console import Console
from typer.testing import CliRunner

from radio import workers
from radio.cli import app
from radio.cli import station as cli_station
from radio.cli.station import status_table
from radio.messages import WorkerStatus

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
ERROR = ("ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 11434)\n"
         "while asking the LLM for the fact sheet of 2304.02623v1")


def statuses() -> list[WorkerStatus]:
    found = [WorkerStatus(worker=name, instance="radio-host-1", state="online", version="1",
                          backlog=3, handled=1234, updated_at=NOW - timedelta(seconds=5))
             for name in workers.WORKERS]
    found[0] = found[0].model_copy(update={"state": "offline", "failed": 7, "last_error": ERROR})
    summarizer = next(i for i, s in enumerate(found) if s.worker == "summarizer")
    found[summarizer] = found[summarizer].model_copy(update={
        "backlog": 12, "detail": {"queued_for_air": 3, "queued_background": 9}})
    return found


def shown(width: int) -> list[str]:
    out = io.StringIO()
    Console(file=out, width=width, color_system=None).print(status_table(statuses(), width, NOW))
    return out.getvalue().splitlines()


@pytest.mark.parametrize("width", [40, 80])
def test_one_line_per_worker_with_whole_names(width: int) -> None:
    lines = shown(width)
    assert max(len(line) for line in lines) <= width
    for s in statuses():
        rows = [line for line in lines if f" {s.worker} " in line]
        assert len(rows) == 1, (s.worker, lines)  # not wrapped, not cut
        assert s.state in rows[0]
    failing = next(line for line in lines if f" {statuses()[0].worker} " in line)
    assert "ConnectionRe" in failing and "…" in failing  # the error shortened, on its line


def test_narrow_drops_columns_wide_shows_them_all() -> None:
    narrow, piped, wide = "\n".join(shown(40)), "\n".join(shown(80)), "\n".join(shown(240))
    assert "instance" not in narrow and "done" not in narrow
    assert "done" not in piped and "1234" not in piped
    for header in ("instance", "state", "backlog", "done", "failed", "seen", "last error"):
        assert header in wide
    assert "12 (3 for air, 9 background)" in wide and "for air" not in narrow
    assert "while asking the LLM" in wide  # the whole error, on one line


def test_json_keeps_the_whole_error(monkeypatch: pytest.MonkeyPatch) -> None:
    async def retained(*_: object) -> dict[str, bytes]:
        return {f"status/{s.worker}": s.to_json() for s in statuses()}

    monkeypatch.setattr(cli_station, "read_retained", retained)
    monkeypatch.setenv("COLUMNS", "40")
    listed = CliRunner().invoke(app, ["status", "--json"])
    assert listed.exit_code == 0, listed.output
    by_worker = {s["worker"]: s for s in json.loads(listed.output)}
    assert by_worker[statuses()[0].worker]["last_error"] == ERROR
    table = CliRunner().invoke(app, ["status"])
    assert table.exit_code == 0, table.output
    assert max(len(line) for line in table.output.splitlines()) <= 40
