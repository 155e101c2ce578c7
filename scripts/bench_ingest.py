"""Ingest benchmark: text and page images of the corpus PDFs on this machine; prints JSON.

    .venv/bin/python scripts/bench_ingest.py [--rounds 2] [--workers 2] [--corpus DIR]

- `text`, `images`, `title_card`: each phase alone in this process, over every corpus PDF.
  CPU seconds (process time) say what a phase costs whatever else the machine runs; wall
  seconds are what it took here and now.
- `pipeline`: the pdf worker's own path (`parse_isolated`: a child process per paper, text,
  sections, page images and title card, the output swapped in), `--workers` papers at a
  time (one pdf worker instance per core), `--rounds` passes over the corpus, wall clock.
- `cpu_bound_papers_per_hour`: papers/hour if every core ran a worker and nothing else ran,
  from the CPU cost per paper of the three phases.
The load average is reported: on a shared machine the wall-clock figures move with it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from radio.config import PdfSettings
from radio.ingest.pdf_images import CardInfo, render_pages, render_title_card
from radio.ingest.pdf_parse import extract_text, open_pdf, parse_isolated

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "pdf"
TARGET = 3000  # papers/hour, text + page images, 2 cores
CARD = CardInfo(arxiv_id="2312.10997", version=5, category="cs.CL", date="2023-12-18",
                title="Retrieval-Augmented Generation for Large Language Models: A Survey",
                authors=("Yunfan Gao", "Yun Xiong", "Xinyu Gao"),
                abstract="Large Language Models (LLMs) showcase impressive capabilities. " * 8)


class Clock:
    """Wall and CPU seconds of the blocks it times."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0

    def __enter__(self) -> Clock:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall += time.perf_counter() - self._wall
        self.cpu += time.process_time() - self._cpu


def phases(pdfs: list[Path], work: Path, limits: PdfSettings) -> dict:
    text, images, card = Clock(), Clock(), Clock()
    pages = 0
    for number, pdf in enumerate(pdfs):
        out = work / f"phase-{number}"
        out.mkdir()
        with open_pdf(pdf, limits.max_bytes) as doc:
            count = min(doc.page_count, limits.max_pages)
            pages += count
            with text:
                extract_text(doc, count, out)
            with images:
                render_pages(doc, out / "pages", limits.page_width_px, count)
        with card:
            render_title_card(CARD, out / "title_card.png")
        shutil.rmtree(out)
    papers = len(pdfs)
    cpu_per_paper = (text.cpu + images.cpu + card.cpu) / papers
    return {
        "text": _rates(text, papers, pages),
        "images": _rates(images, papers, pages),
        "title_card": {"cpu_ms_per_paper": round(card.cpu / papers * 1000, 1),
                       "wall_ms_per_paper": round(card.wall / papers * 1000, 1)},
        "cpu_s_per_paper": round(cpu_per_paper, 3),
        "cpu_bound_papers_per_hour": round((os.cpu_count() or 1) * 3600 / cpu_per_paper),
    }


def _rates(clock: Clock, papers: int, pages: int) -> dict:
    return {"pages_per_s_cpu": round(pages / clock.cpu, 1),
            "pages_per_s_wall": round(pages / clock.wall, 1),
            "papers_per_hour_one_core_cpu": round(papers * 3600 / clock.cpu),
            "cpu_s": round(clock.cpu, 2), "wall_s": round(clock.wall, 2)}


def pipeline(pdfs: list[Path], work: Path, limits: PdfSettings, workers: int,
             rounds: int) -> dict:
    jobs = [(pdf, work / f"run-{r}-{n}" / "v1") for r in range(rounds)
            for n, pdf in enumerate(pdfs)]
    parse_isolated(pdfs[0], work / "warm" / "v1", CARD, limits)  # start the fork server

    def one(job: tuple[Path, Path]) -> int:
        pdf, out = job
        result = parse_isolated(pdf, out, CARD, limits)
        shutil.rmtree(out.parent)
        return len(result.page_images)

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        pages = sum(pool.map(one, jobs))
    wall = time.perf_counter() - started
    return {"workers": workers, "rounds": rounds, "papers": len(jobs), "pages": pages,
            "wall_s": round(wall, 2), "papers_per_hour": round(len(jobs) * 3600 / wall),
            "pages_per_s": round(pages / wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    pdfs = sorted(args.corpus.glob("*.pdf"))
    limits = PdfSettings()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as tmp:
        report = {"cpus": os.cpu_count(), "papers": len(pdfs),
                  "page_width_px": limits.page_width_px, **phases(pdfs, Path(tmp), limits),
                  "pipeline": pipeline(pdfs, Path(tmp), limits, args.workers, args.rounds)}
    report["target_papers_per_hour"] = TARGET
    report["meets_target_cpu_bound"] = report["cpu_bound_papers_per_hour"] >= TARGET
    report["meets_target_wall"] = report["pipeline"]["papers_per_hour"] >= TARGET
    report["load_average"] = {"before": [round(x, 2) for x in load_before],
                              "after": [round(x, 2) for x in os.getloadavg()]}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
