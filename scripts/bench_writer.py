"""Write one daily show from corpus papers with the default model; print JSON figures.

    .venv/bin/python scripts/bench_writer.py --length 8m --threads 2 \
        --summaries /tmp/bench-summaries --out docs/examples/daily-script

Measures the wall and CPU time to write per minute of show, the grounding rate, how many
segments the LLM wrote versus the fallback (from a summary, the abstract, or a template),
and why the LLM's drafts were rejected. Papers come from the shared corpus (metadata from
each PDF's first page, text from PyMuPDF). `--summaries DIR` gives the papers the real
summarizer's summaries, as the station does (written once with the default model, then
read from DIR). `--out` saves the script as JSON and as readable Markdown;
`--log-drafts` logs every rejected draft.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from radio.artifacts import DataRoot  # noqa: E402
from radio.backends.llm import load_llm  # noqa: E402
from radio.config import LLMSettings, Settings, WriterSettings  # noqa: E402
from radio.messages import ShowRequested  # noqa: E402
from radio.shows.schedule import parse_length  # noqa: E402
from radio.shows.script import render_markdown  # noqa: E402
from radio.shows.writing import write_show  # noqa: E402
from radio.store import Store, now_iso  # noqa: E402
from tests.shows.corpus import DAILY_PAPERS, add_papers  # noqa: E402

DAY = "2026-11-20"
# Why a draft was rejected, by the words of the check that rejected it.
REASONS = {"schema": "does not fit the schema", "llm_error": "LLM failed",
           "length": "words, budget", "cut": "ends mid-sentence", "fragment": "is a fragment",
           "echo": "repeats the instructions", "grounding": "not in the paper",
           "copies_abstract": "copies the abstract", "author_voice": "as the paper's authors",
           "repeats": "repeats an earlier line", "markup": "URL or markup",
           "speakers": "speaks twice|is not a host", "not_named": "does not name"}


def reasons(problems: list[str]) -> Counter:
    """One segment's rejected drafts by reason (a draft with two kinds counts for both)."""
    found: Counter = Counter()
    drafts: dict[str, set[str]] = {}
    for problem in problems:
        attempt = problem.split(":", 1)[0]
        for reason, words in REASONS.items():
            if re.search(words, problem):
                drafts.setdefault(attempt, set()).add(reason)
    for kinds in drafts.values():
        found.update(kinds)
    return found


def add_summaries(store: Store, data: DataRoot, settings: Settings, llm: object,
                  folder: Path) -> None:
    """The real summarizer's records, written once per paper and kept in `folder`."""
    from radio.backends.embedder import load_embedder
    from radio.understanding.summarize import Paper, Summarizer, SummaryRecord

    folder.mkdir(parents=True, exist_ok=True)
    summarizer = None
    for row in store.query("SELECT arxiv_id, latest_version, title, abstract FROM papers"):
        path = folder / f"{row['arxiv_id']}v{row['latest_version']}.json"
        if not path.is_file():
            summarizer = summarizer or Summarizer(llm, load_embedder(settings.embedder),
                                                  settings.llm)
            text = (data.paper_dir(row["arxiv_id"]) / "text.txt").read_text()
            paper = Paper(arxiv_id=row["arxiv_id"], version=row["latest_version"],
                          title=row["title"], abstract=row["abstract"], text=text)
            path.write_text(summarizer.summarize(paper).model_dump_json(indent=1))
        record = SummaryRecord.model_validate_json(path.read_text())
        store.execute("INSERT OR REPLACE INTO summaries (arxiv_id, version, data, "
                      "grounding_rate, model, created_at) VALUES (?,?,?,?,?,?)",
                      (record.arxiv_id, record.version, record.model_dump_json(),
                       record.grounding.rate, record.model, now_iso()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", default="8m", help="Show length (e.g. 8m, 30m).")
    parser.add_argument("--papers", type=int, default=6, help="Corpus papers in the show.")
    parser.add_argument("--discussions", type=int, default=2, help="Papers discussed.")
    parser.add_argument("--threads", type=int, default=2, help="llama.cpp threads.")
    parser.add_argument("--out", type=Path, help="Save <out>.json and <out>.md.")
    parser.add_argument("--summaries", type=Path, help="Summaries kept in this folder.")
    parser.add_argument("--log-drafts", action="store_true", help="Log rejected drafts.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")  # to stderr
    if args.log_drafts:
        logging.getLogger("radio.shows.writing").setLevel(logging.DEBUG)

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp) / "data",
                            llm=LLMSettings(n_threads=args.threads),
                            writer=WriterSettings(discussion_count=args.discussions))
        store, data = Store(settings.database_path), DataRoot(settings.data_dir)
        add_papers(store, data, DAILY_PAPERS[:args.papers],
                   datetime.fromisoformat(f"{DAY}T06:00:00+00:00"))
        llm = load_llm(settings.llm)
        if args.summaries:
            add_summaries(store, data, settings, llm, args.summaries)
        request = ShowRequested(show_id=f"daily-{DAY}", kind="daily", date=DAY,
                                length_s=parse_length(args.length),
                                categories=["cs.CL", "cs.CV", "cs.AI"])
        wall, cpu = time.monotonic(), time.process_time()
        script = write_show(settings, store, data, llm, request)
        wall, cpu = time.monotonic() - wall, time.process_time() - cpu
        store.close()

    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".json").write_text(script.model_dump_json(indent=2) + "\n")
        args.out.with_suffix(".md").write_text(render_markdown(script))
    minutes = script.estimated_s / 60
    drafts = [rate for segment in script.segments for rate in segment.draft_grounding]
    print(json.dumps({
        "model": script.model, "threads": args.threads, "papers": len(script.paper_ids),
        "budget_s": request.length_s, "estimated_s": round(script.estimated_s, 1),
        "words": script.words, "lines": len(script.lines),
        "write_wall_s": round(wall, 1), "write_cpu_s": round(cpu, 1),
        "wall_s_per_show_minute": round(wall / minutes, 1),
        "cpu_s_per_show_minute": round(cpu / minutes, 1),
        "grounding_rate": round(script.grounding_rate, 3),
        "llm_draft_grounding_rate": round(sum(drafts) / len(drafts), 3) if drafts else None,
        "llm_drafts": len(drafts),
        "segments_by": dict(Counter(s.source for s in script.segments)),
        "attempts": sum(s.attempts for s in script.segments),
        "rejected_drafts_by_reason": dict(sum(
            (reasons(s.problems) for s in script.segments), Counter()).most_common()),
        "show_checks": script.problems,
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(), "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }, indent=2))


if __name__ == "__main__":
    main()
