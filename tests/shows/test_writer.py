"""Writing shows: the writer worker's handler, the fallback when the LLM fails, the CLI."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from radio.artifacts import DataRoot
from radio.backends.llm import load_llm, tiny_model_path
from radio.cli import app
from radio.config import LLMSettings, SamplingSettings, Settings, WriterSettings
from radio.messages import ShowRequested, ShowWritten
from radio.shows.checks import check_show
from radio.shows.papers import load_papers
from radio.shows.script import Script, load_script
from radio.shows.writing import ShowWriter, as_notes, write_show
from radio.store import Store
from radio.understanding.facts import Fact, FactSheet, Result
from radio.worker import Context
from radio.workers.writer import WriterWorker
from tests.shows.corpus import DEFAULT_PAPERS, add_papers
from tests.support.harness import BusProbe
from tests.support.inmemory import only, run_handler
from tests.support.ports import free_port
from tests.support.settings import make_settings

DAY = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
CATEGORIES = ["cs.CL", "cs.CV", "cs.AI"]
runner = CliRunner()


def request(length_s: int = 180, show_id: str = "daily-2026-11-20") -> ShowRequested:
    return ShowRequested(show_id=show_id, kind="daily", date="2026-11-20", length_s=length_s,
                         categories=CATEGORIES)


def server_down() -> LLMSettings:
    """The OpenAI-compatible backend, pointed at a port where nothing listens."""
    return LLMSettings(backend="openai", base_url=f"http://127.0.0.1:{free_port()}/v1",
                       retries=0, timeout_s=5)


def assert_complete(script: Script, paper_ids: list[str]) -> None:
    assert set(script.paper_ids) == set(paper_ids)
    assert all(segment.lines for segment in script.blocks)
    covered = {line.paper_id for line in script.lines if line.paper_id}
    assert covered == set(paper_ids)  # every paper is actually talked about
    assert len({line.speaker for line in script.lines}) >= 2


async def test_writer_worker_falls_back_when_the_llm_server_is_down(
        tmp_path: Path, database_url: str | None) -> None:
    """The handler in memory (tests/support/inmemory.run_handler), on SQLite and PostgreSQL."""
    ctx = Context.from_settings(make_settings(tmp_path / "data", llm=server_down(),
                                              database_url=database_url))
    data, store = ctx.data, ctx.store
    ids = add_papers(store, data, DEFAULT_PAPERS, DAY)
    writer = WriterWorker(ctx)
    try:
        (written,) = only(ShowWritten, await run_handler(writer, [request()]))
        assert written.show_id == "daily-2026-11-20"
        script = load_script(data, written.show_id)
        assert data.verify(written.script)  # the announced file is the stored one
        assert_complete(script, ids)
        assert {s.source for s in script.blocks} <= {"summary", "template"}
        assert {line.origin for line in script.lines} == {"fallback"}
        assert any("written without the LLM" in p and "cannot connect" in p
                   for p in script.problems), script.problems
        # Nothing repeated, nobody three times in a row; short, because nothing is padded.
        assert [p for p in check_show(script, ["Alex", "Mira"], 1.0, script.planned_s)] == []
        row = store.show(written.show_id)
        assert (row["status"], row["script_path"]) == ("written",
                                                       "shows/daily-2026-11-20/script.json")
        # A second request for the same show is deduplicated; a re-announce is not a rewrite.
        mtime = data.resolve(written.script).stat().st_mtime
        assert only(ShowWritten, await run_handler(writer, [request()])) == []
        assert data.resolve(written.script).stat().st_mtime == mtime
    finally:
        await writer.teardown()
        store.close()


@pytest.mark.slow
def test_output_that_never_passes_still_yields_a_complete_show(tmp_path: Path) -> None:
    # The tiny model writes nonsense: its lines fail their checks, each is asked for twice
    # (1 + max_regenerations), then replaced by the fallback line, which is checked too.
    settings = Settings(data_dir=tmp_path / "data",
                        llm=LLMSettings(model_path=tiny_model_path(), n_threads=1,
                                        # its nonsense runs to the cap: cut short, as no JSON
                                        dialogue=SamplingSettings(temperature=0.7,
                                                                  max_tokens=200)),
                        writer=WriterSettings(discussion_count=1, max_regenerations=1))
    store, data = Store(settings.database_path), DataRoot(settings.data_dir)
    ids = add_papers(store, data, DEFAULT_PAPERS, DAY)
    script = write_show(settings, store, data, load_llm(settings.llm), request(120))
    assert_complete(script, ids)
    fallen = [s for s in script.blocks if s.fallback_lines]
    assert fallen, "some line should have failed its checks"
    for segment in fallen:  # asked twice (a draft checked, or a reply that was no JSON)
        assert segment.attempts >= 2 and segment.problems, segment.problems
    assert {line.origin for line in script.lines} <= {"model", "fallback"}
    store.close()


def _cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    monkeypatch.setenv("RADIO_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RADIO_BUS__EMBEDDED_PORT", str(settings.bus.embedded_port))
    monkeypatch.setenv("COLUMNS", "200")


@pytest.mark.parametrize("args,message", [
    (["run", "nightly"], "unknown show kind 'nightly'"),
    (["run", "daily", "--date", "2026-13-01"], "bad date '2026-13-01'"),
    (["run", "daily", "--date", "2026-11-21"], "no papers for daily show daily-2026-11-21"),
    (["run", "daily", "--length", "a while"], "bad length"),
    (["print", "daily-1999-01-01"], "no script for show 'daily-1999-01-01'"),
    (["print", "../../etc"], "not a show id"),
])
def test_show_cli_bad_input(settings: Settings, monkeypatch: pytest.MonkeyPatch,
                            args: list[str], message: str) -> None:
    _cli_env(monkeypatch, settings)
    store = Store(settings.database_path)
    add_papers(store, DataRoot(settings.data_dir), DEFAULT_PAPERS[:1], DAY)
    result = runner.invoke(app, ["show", *args])
    assert result.exit_code != 0
    assert message in result.output
    assert len([ln for ln in result.output.splitlines() if ln.strip()]) == 1
    assert store.shows() == []
    store.close()


async def test_show_cli_runs_lists_and_prints(settings: Settings,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _cli_env(monkeypatch, settings)
    monkeypatch.setenv("RADIO_LLM__BACKEND", "openai")
    monkeypatch.setenv("RADIO_LLM__BASE_URL", f"http://127.0.0.1:{free_port()}/v1")
    monkeypatch.setenv("RADIO_LLM__RETRIES", "0")
    store = Store(settings.database_path)
    add_papers(store, DataRoot(settings.data_dir), DEFAULT_PAPERS, DAY)
    async with BusProbe(settings, [ShowRequested.TOPIC, ShowWritten.TOPIC]) as probe:
        asked = await asyncio.to_thread(runner.invoke, app, [
            "show", "run", "daily", "--date", "2026-11-20", "--length", "3m",
            "--categories", "cs.CL,cs.CV"])
        assert asked.exit_code == 0, asked.output
        requested = await probe.expect(ShowRequested, timeout=10)
        assert (requested.show_id, requested.length_s) == ("daily-2026-11-20", 180)

        wrote = await asyncio.to_thread(runner.invoke, app, [
            "show", "run", "daily", "--date", "2026-11-20", "--length", "3m", "--now",
            "--id", "daily-2026-11-20-now"])
        assert wrote.exit_code == 0, wrote.output
        written = await probe.expect(ShowWritten, timeout=10)
        assert written.show_id == "daily-2026-11-20-now"

        # A written show announced again: the voices and the recorder take it once more.
        announced = await asyncio.to_thread(runner.invoke, app, [
            "show", "announce", "daily-2026-11-20-now"])
        assert announced.exit_code == 0, announced.output
        again = await probe.expect(ShowWritten, timeout=10, count=2)
        assert again.script == written.script

    missing = runner.invoke(app, ["show", "announce", "daily-1999-01-01"])
    assert missing.exit_code != 0 and "no script for show" in missing.output
    again = runner.invoke(app, ["show", "run", "daily", "--date", "2026-11-20", "--now",
                                "--id", "daily-2026-11-20-now"])
    assert again.exit_code != 0 and "already written" in again.output
    listed = runner.invoke(app, ["show", "list"])
    assert "daily-2026-11-20-now" in listed.output and "written" in listed.output
    printed = runner.invoke(app, ["show", "print", "daily-2026-11-20-now"])
    assert printed.exit_code == 0
    assert "RUNDOWN" in printed.output and "ALEX:" in printed.output
    assert "Beyond Summarization" in printed.output
    store.close()


def test_a_fact_that_copies_the_paper_reaches_the_model_only_as_notes(tmp_path: Path) -> None:
    """A small model reads back a sentence it is shown whole, and a line with 12 words of
    the paper is refused and asked for again; so a fact that copies the paper is shown as
    short notes in the paper's sheet (the system prompt), as in its exchange's cue."""
    settings = Settings(data_dir=tmp_path / "data")
    store, data = Store(settings.database_path), DataRoot(settings.data_dir)
    try:
        (arxiv_id,) = add_papers(store, data, ["2304.02623v1.pdf"], datetime.now(UTC))
        (paper,) = load_papers(store, arxiv_ids=[arxiv_id])
        copied = max(paper.abstract.split(". "), key=len)  # the paper's own sentence
        writer = ShowWriter(settings, store, data, None)
        writer.sheets[arxiv_id] = FactSheet(short_name="", key_idea=Fact(text=copied,
                                                                         copied=True),
                                            problem=Fact(text="Reading tables is hard."))
        system = writer.paper_system(paper)
    finally:
        store.close()
    assert len(copied.split()) >= 14
    assert copied not in system and "Problem: Reading tables is hard." in system
    assert "Key idea: " + "; ".join(as_notes(Fact(text=copied, copied=True))) in system


def test_a_copied_result_is_said_by_its_parts_and_a_bare_number_not_at_all(
        tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    store = Store(settings.database_path)
    try:
        writer = ShowWriter(settings, store, DataRoot(settings.data_dir), None)
        measured = Result(text="copied", copied=True, number="627 million", metric="tables")
        bare = Result(text="copied", copied=True, number="4.5")  # aired as "the number to
        # remember is 4.5", December 2026: 4.5 of what?
        assert writer._fallback_answer(measured, "TabLib") == \
            "For TabLib, the number to remember is 627 million tables."
        assert writer._fallback_answer(bare, "AMDCN") == ""
    finally:
        store.close()
