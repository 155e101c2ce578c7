"""Scale-out: three summarizer processes on mosquitto (shared subscriptions) and PostgreSQL
split the corpus papers between them and summarize each exactly once, even when one of
them is killed (SIGKILL) while it holds a paper: its inbox lease runs out and a live
instance takes the paper over. The model is the real SmolLM2-135M (structure only) with a
token budget that fits its JSON (900); scripts/bench_scaleout.py runs 20 papers."""

from __future__ import annotations

from pathlib import Path

import pytest

from radio.backends.llm import tiny_model_path
from tests.scaleout import summarizers
from tests.support.mosquitto import Mosquitto
from tests.support.postgres import Postgres

PAPERS = 6


@pytest.mark.slow
@pytest.mark.timeout(1800)  # three models loading on two cores (minutes on a loaded machine)
async def test_three_summarizers_summarize_each_paper_once_even_when_one_dies(
        tmp_path: Path, mosquitto: Mosquitto, postgres_server: Postgres) -> None:
    papers = summarizers.corpus_papers(tmp_path / "parsed", PAPERS, summarizers.SMALL_PDFS)
    outcome = await summarizers.run(
        tmp_path, mosquitto.url, postgres_server.fresh_database("scaleout"), papers,
        summarizers.llm_env(tiny_model_path(), max_tokens=900), instances=3, kill_one=True,
        timeout_s=900)
    assert outcome.summarized == PAPERS and outcome.summary_rows == PAPERS, outcome
    assert outcome.duplicates == 0 and set(outcome.generated.values()) == {1}, outcome
    assert outcome.message_duplicates == 0, outcome
    assert outcome.backlog == 0, outcome  # nothing left pending, the dead one's row included
    assert outcome.killed is not None and outcome.taken_over, outcome
    live = {name: n for name, n in outcome.handled.items() if name != outcome.killed}
    assert len([n for n in live.values() if n > 0]) == 2, outcome  # the work was split
