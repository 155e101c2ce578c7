"""Write one daily show from corpus papers with the default model; print JSON figures.

    .venv/bin/python scripts/bench_writer.py --length 8m \
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
from itertools import pairwise
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from radio.artifacts import DataRoot  # noqa: E402
from radio.backends.llm import load_llm  # noqa: E402
from radio.config import LLMSettings, Settings, WriterSettings  # noqa: E402
from radio.messages import ShowRequested  # noqa: E402
from radio.shows.dialogue import says  # noqa: E402
from radio.shows.papers import Paper, load_papers  # noqa: E402
from radio.shows.records import record_written  # noqa: E402
from radio.shows.schedule import parse_length  # noqa: E402
from radio.shows.script import Script, count_words, render_markdown, save_script  # noqa: E402
from radio.shows.writing import ShowWriter, paper_text  # noqa: E402
from radio.store import Store  # noqa: E402
from radio.understanding.facts import copy_run  # noqa: E402
from radio.understanding.grounding import Source, check_line  # noqa: E402
from tests.shows.corpus import DAILY_PAPERS, add_papers  # noqa: E402

DAY = "2026-11-20"
SUMMARY_SECONDS: list[float] = []  # fact sheets written in this run, seconds each
# Why a line was rejected, by the words of the check that rejected it.
REASONS = {"llm_error": "LLM failed", "not_json": "not JSON", "cut": "ends mid-sentence",
           "fragment": "is a fragment", "echo": "repeats the instructions",
           "grounding": "not in the paper", "copies_paper": "copies the paper",
           "author_voice": "as the paper's authors", "repeats": "repeats an earlier line",
           "markup": "URL or markup", "missing_number_or_title": "does not say",
           "too_short": "too short", "fallback_refused": "fallback refused"}


def reasons(problems: list[str]) -> Counter:
    return Counter(reason for problem in problems for reason, words in REASONS.items()
                   if re.search(words, problem))


def untitled(text: str, titles: list[str]) -> str:
    for title in titles:
        text = text.replace(title, " ")
    return text


def figures(script: Script, papers: dict[str, Paper], texts: dict[str, str]) -> dict:
    """What a listener hears, measured against the issue's targets."""
    lines = script.lines
    words = [count_words(line.text) for line in lines]
    by_model = sum(w for w, line in zip(words, lines, strict=True) if line.origin == "model")
    titles = [p.title for p in papers.values()]  # saying a title is no copy
    copies = [line.text for line in lines if line.paper_id and copy_run(
        untitled(line.text, titles), texts.get(line.paper_id, ""))]
    heard, runs, run = [], [], 1
    for prev, line in pairwise(lines):
        run = run + 1 if line.speaker == prev.speaker else 1
        runs.append(run)
    discussed = [s.slot.paper_ids[0] for s in script.blocks if s.slot.kind == "discussion"]
    for arxiv_id in dict.fromkeys(discussed):
        sheet = papers[arxiv_id].facts
        if sheet is None or not sheet.results:
            continue
        said = " ".join(li.text for li in lines if li.paper_id == arxiv_id)
        top = sheet.results[0]
        heard.append({"paper": arxiv_id, "number": top.number,
                      "number_said": says(said, top.number),
                      "baseline": top.baseline,
                      "baseline_said": bool(top.baseline) and says(said, top.baseline)})
    ungrounded = []
    for line in lines:
        paper = papers.get(line.paper_id or "")
        if paper is None or paper.facts is None:
            continue
        sheet = paper.facts
        source = Source("\n".join([paper.title, ", ".join(paper.authors), sheet.short_name,
                                   sheet.analogy, *(f.text for _, f in sheet.facts()),
                                   *(f"{r.number} {r.setting} {r.baseline}"
                                     for r in sheet.results),
                                   sheet.passage_text([n for _, f in sheet.facts()
                                                       for n in f.passages])]))
        verdict = check_line(line.text, source, [h.name for h in WriterSettings().hosts])
        if not verdict.ok:
            ungrounded.append({"line": line.text, "unsupported": verdict.unsupported})
    return {
        "model_word_share": round(by_model / max(sum(words), 1), 3),
        "lines_copying_12_words": len(copies), "copied_lines": copies[:5],
        "headline_numbers": heard,
        "planned_s": script.planned_s, "estimated_s": round(script.estimated_s, 1),
        "length_error_vs_plan": round(script.estimated_s / script.planned_s - 1, 3)
        if script.planned_s else None,
        "max_lines_in_a_row_by_one_host": max(runs, default=1),
        "lines_not_grounded_in_their_paper": ungrounded[:8],
        "lines_not_grounded_count": len(ungrounded),
    }


def add_summaries(store: Store, data: DataRoot, settings: Settings, llm: object,
                  folder: Path) -> None:
    """The real summarizer's records, written once per paper and kept in `folder`."""
    from radio.backends.embedder import load_embedder
    from radio.understanding.summarize import PaperText, Summarizer, SummaryRecord

    folder.mkdir(parents=True, exist_ok=True)
    summarizer = None
    for row in store.papers():
        path = folder / f"{row['arxiv_id']}v{row['latest_version']}.json"
        if not path.is_file():
            summarizer = summarizer or Summarizer(llm, load_embedder(settings.embedder),
                                                  settings.llm)
            text = (data.paper_dir(row["arxiv_id"]) / "text.txt").read_text()
            paper = PaperText(arxiv_id=row["arxiv_id"], version=row["latest_version"],
                              title=row["title"], abstract=row["abstract"], text=text)
            started = time.monotonic()
            path.write_text(summarizer.summarize(paper).model_dump_json(indent=1))
            SUMMARY_SECONDS.append(round(time.monotonic() - started, 1))
        record = SummaryRecord.model_validate_json(path.read_text())
        store.record_summary(record.arxiv_id, record.version, record.model_dump_json(),
                             record.grounding.rate, record.model)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", default="8m", help="Show length (e.g. 8m, 30m).")
    parser.add_argument("--papers", type=int, default=6, help="Corpus papers in the show.")
    parser.add_argument("--discussions", type=int, default=2, help="Papers discussed.")
    parser.add_argument("--threads", type=int, default=None,
                        help="llama.cpp threads (default: the station's, every core).")
    parser.add_argument("--keep", type=Path, help="Keep the station's data here (store, "
                        "papers, the script), e.g. to voice it: RADIO_DATA_DIR=KEEP radio up "
                        "--only tts --only recorder, then radio show announce SHOW_ID.")
    parser.add_argument("--model", default="qwen2.5-coder-1.5b",
                        help="Shipped model (llm.shipped_model).")
    parser.add_argument("--out", type=Path, help="Save <out>.json and <out>.md.")
    parser.add_argument("--summaries", type=Path, help="Summaries kept in this folder.")
    parser.add_argument("--log-drafts", action="store_true", help="Log rejected drafts.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")  # to stderr
    if args.log_drafts:
        logging.getLogger("radio.shows.writing").setLevel(logging.DEBUG)

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=args.keep or Path(tmp) / "data",
                            llm=LLMSettings(n_threads=args.threads,
                                            shipped_model=args.model),
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
        writer = ShowWriter(settings, store, data, llm)
        script = writer.write(request)
        writer_sheets = writer.sheets
        wall, cpu = time.monotonic() - wall, time.process_time() - cpu
        papers = {p.arxiv_id: p for p in load_papers(store, arxiv_ids=script.paper_ids)}
        for paper in papers.values():  # as the writer had them, made on demand or stored
            paper.facts = paper.facts or writer_sheets.get(paper.arxiv_id)
        texts = {a: papers[a].abstract + "\n" + paper_text(store, data, a)[0] for a in papers}
        listened = figures(script, papers, texts)
        if args.keep:
            save_script(data, script)
            record_written(store, data, script)
        store.close()

    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".json").write_text(script.model_dump_json(indent=2) + "\n")
        args.out.with_suffix(".md").write_text(render_markdown(script))
    minutes = script.estimated_s / 60
    print(json.dumps({
        "model": script.model, "threads": args.threads, "papers": len(script.paper_ids),
        "budget_s": request.length_s, "estimated_s": round(script.estimated_s, 1),
        "words": script.words, "lines": len(script.lines),
        "write_wall_s": round(wall, 1), "write_cpu_s": round(cpu, 1),
        "wall_s_per_show_minute": round(wall / minutes, 1),
        "cpu_s_per_show_minute": round(cpu / minutes, 1),
        **listened,
        "segments_by": dict(Counter(s.source for s in script.blocks)),
        "llm_calls": sum(s.attempts for s in script.blocks),
        "lines_by_model": sum(s.model_lines for s in script.blocks),
        "lines_by_fallback": sum(s.fallback_lines for s in script.blocks),
        "rejected_lines_by_reason": dict(sum(
            (reasons(s.problems) for s in script.blocks), Counter()).most_common()),
        "show_checks": script.problems,
        "fact_sheet_s_each": SUMMARY_SECONDS,
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(), "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }, indent=2))


if __name__ == "__main__":
    main()
