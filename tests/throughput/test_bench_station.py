"""scripts/bench_station.py in its short form (tiny LLM, one paper, a 1-minute show, breaking
news): it runs to the end and prints the JSON the issue asks for. The figures are not
checked, only that each is there with its type (the machine may be shared)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.support.procs import ROOT

pytestmark = pytest.mark.slow

NUMBER = (int, float)
SCHEMA: dict[str, object] = {
    "papers": int, "show_length_asked_s": int, "startup_s": NUMBER, "voiced_s": NUMBER,
    "airtime_factor": NUMBER, "airtime_factor_from_ingest": NUMBER, "peak_rss_mb": int,
    "load_avg_1m_start": NUMBER, "load_avg_1m_end": NUMBER, "load_avg_1m_peak": NUMBER,
    "wall_s": NUMBER,
    "stages": {"ingest_and_parse_s": NUMBER, "request_to_written_s": NUMBER,
               "written_to_last_voiced_s": NUMBER, "lines": int, "tts_per_speaker": dict},
    "papers_per_hour": {"parsed": NUMBER, "embedded": NUMBER, "ingest_target": int},
    "breaking_news": {"fetch_s": NUMBER, "parsed_s": NUMBER, "written_s": NUMBER,
                      "first_voiced_s": NUMBER, "latency_s": NUMBER, "target_s": int},
    "query": {"n": int, "p50_ms": NUMBER, "p99_ms": NUMBER, "target_p99_ms": int},
    "targets": {"airtime_factor": int, "peak_rss_mb": int},
    "llm_time": {"calls": int, "prompt_tokens": int, "prompt_s": NUMBER,
                 "generated_tokens": int, "generation_s": NUMBER, "other_s": NUMBER},
}


def _check(found: dict, schema: dict, where: str = "") -> list[str]:
    wrong = []
    for key, kind in schema.items():
        if key not in found:
            wrong.append(f"{where}{key}: missing")
        elif isinstance(kind, dict):
            wrong += _check(found[key], kind, f"{where}{key}.")
        elif not isinstance(found[key], kind) or isinstance(found[key], bool):
            wrong.append(f"{where}{key}: {found[key]!r} is no {kind}")
    return wrong


def test_bench_station_short_form_prints_its_figures() -> None:
    done = subprocess.run([sys.executable, "scripts/bench_station.py", "--short",
                           "--timeout", "900"], cwd=ROOT, capture_output=True, text=True,
                          timeout=1200)
    result = json.loads(done.stdout)
    assert "error" not in result, (result["error"], done.stderr[-3000:])
    assert done.returncode == 0, done.stderr[-3000:]
    assert _check(result, SCHEMA) == []
    speakers = result["stages"]["tts_per_speaker"]
    assert speakers and all(set(v) == {"wall_s", "voiced_s", "realtime_factor"}
                            for v in speakers.values())
