"""A daily show over real corpus papers, written by the real default model."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from radio.artifacts import DataRoot
from radio.backends.llm import load_llm
from radio.config import LLMSettings, Settings, WriterSettings
from radio.messages import ShowRequested
from radio.shows.checks import check_show
from radio.shows.papers import select_papers
from radio.store import Store
from tests.shows.corpus import DEFAULT_PAPERS, add_papers

BUDGET_S = 180  # short, to keep the CPU time of the test sane


@pytest.mark.slow
@pytest.mark.timeout(1800)  # minutes on two cores shared with other jobs
def test_daily_show_by_the_default_model(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", llm=LLMSettings(n_threads=2),
                        writer=WriterSettings(discussion_count=1, max_regenerations=1))
    store, data = Store(settings.database_path), DataRoot(settings.data_dir)
    add_papers(store, data, DEFAULT_PAPERS, datetime(2026, 11, 20, 6, 0, tzinfo=UTC))
    request = ShowRequested(show_id="daily-2026-11-20", kind="daily", date="2026-11-20",
                            length_s=BUDGET_S, categories=["cs.CL", "cs.CV", "cs.AI"])
    selected = {p.arxiv_id for p in select_papers(store, request, settings)}
    assert len(selected) == 3

    from radio.shows.writing import write_show
    script = write_show(settings, store, data, load_llm(settings.llm), request)

    # The rundown covers every selected paper, and each is really talked about.
    assert set(script.paper_ids) == selected
    assert {line.paper_id for line in script.lines if line.paper_id} == selected
    speakers = {line.speaker for line in script.lines}
    assert speakers == {"Alex", "Mira"}
    # Planned by its material (never more than asked for), and as long as it planned.
    assert 0 < script.planned_s <= BUDGET_S
    assert check_show(script, ["Alex", "Mira"], 0.25, script.planned_s) == [], script.problems
    # The model wrote most of it, every line of it checked; the fallback filled the rest.
    by_model = [line for line in script.lines if line.origin == "model"]
    assert len(by_model) >= len(script.lines) / 2, [s.problems for s in script.blocks]
    store.close()
