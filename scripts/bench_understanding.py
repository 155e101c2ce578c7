"""Understanding benchmark: summaries, embeddings, related-paper queries; prints JSON.

    .venv/bin/python scripts/bench_understanding.py [--papers 2304.02623v1,...] [--threads 2]
        [--skip-summaries] [--skip-embeddings] [--sizes 100000,1000000] [--grounding-all]

- `summaries`: the summarizer's own path (chunks, retrieval, one constrained generation,
  the grounding check and its regeneration) with the default model, over corpus papers
  parsed by radio.ingest. Wall and CPU seconds per paper; `per_minute` is wall clock here
  and now, `per_minute_if_alone` is what `--threads` cores would give if nothing else ran
  (CPU seconds / threads). The grounding rate of each summary is reported.
- `embeddings`: abstracts per second through all-MiniLM-L6-v2 (batch 32, CPU).
- `related_latency_ms`: `PaperIndex.related` (exact inner product, one OpenMP thread) over
  synthetic normalised random vectors, median and p95 of 50 queries.
The load average is reported: on a shared machine the wall-clock figures move with it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from radio.backends.embedder import load_embedder
from radio.backends.llm import load_llm
from radio.config import EmbedderSettings, LLMSettings, PdfSettings
from radio.ingest.pdf_images import CardInfo
from radio.ingest.pdf_parse import parse_to_dir
from radio.understanding.index import PaperIndex
from radio.understanding.summarize import PaperText, Summarizer

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"
DEFAULT_PAPERS = "2304.02623v1,2305.03393v1_excerpt-p9,1804.07821v1"


def corpus_titles() -> dict[str, str]:
    rows = (CORPUS / "MANIFEST.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return {r.split("\t")[0]: r.split("\t")[2] for r in rows if r.startswith("pdf/")}


def parse(stem: str, out: Path) -> PaperText:
    title = re.sub(r"\s*\((?:pages?|first) [^)]*\)$", "", corpus_titles()[f"pdf/{stem}.pdf"])
    arxiv_id = stem.split("v")[0].split("_")[0]
    parse_to_dir(CORPUS / "pdf" / f"{stem}.pdf", out, CardInfo(arxiv_id, title), PdfSettings(),
                 images=False)
    text = (out / "text.txt").read_text(encoding="utf-8")
    sections = json.loads((out / "sections.json").read_text(encoding="utf-8"))
    abstract = next((" ".join(p["text"] for p in s["paragraphs"])
                     for s in sections["sections"] if s["kind"] == "abstract"),
                    " ".join(text.split()[:150]))
    return PaperText(arxiv_id=arxiv_id, version=1, title=title, abstract=abstract, text=text,
                 sections=sections)


def bench_summaries(stems: list[str], threads: int, embedder) -> dict:
    settings = LLMSettings(n_threads=threads)
    llm = load_llm(settings)
    summarizer = Summarizer(llm, embedder, settings)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for stem in stems:
            paper = parse(stem, Path(tmp) / stem)
            wall, cpu = time.perf_counter(), time.process_time()
            record = summarizer.summarize(paper)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            results.append({"paper": stem, "wall_s": round(wall, 1), "cpu_s": round(cpu, 1),
                            "mode": record.mode, "attempts": record.grounding.attempts,
                            "grounding_rate": round(record.grounding.rate, 3),
                            "sentences_checked": record.grounding.checked,
                            "sentences_dropped": len(record.grounding.dropped),
                            "hook": record.summary.hook})
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    wall = sum(r["wall_s"] for r in results)
    cpu = sum(r["cpu_s"] for r in results)
    return {
        "model": llm.name, "threads": threads, "papers": len(results),
        "per_minute": round(60 * len(results) / wall, 3),
        "per_minute_if_alone": round(60 * len(results) / (cpu / threads), 3),
        "mean_grounding_rate": round(statistics.mean(r["grounding_rate"] for r in results), 3),
        "each": results,
    }


def bench_embeddings(embedder, count: int = 256) -> dict:
    abstracts = []
    with tempfile.TemporaryDirectory() as tmp:
        for file in sorted((CORPUS / "pdf").glob("*.pdf")):
            abstracts.append(parse(file.stem, Path(tmp) / file.stem).abstract)
    texts = (abstracts * (count // len(abstracts) + 1))[:count]
    embedder.embed(texts[:8])  # warm up
    wall, cpu = time.perf_counter(), time.process_time()
    embedder.embed(texts)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {"abstracts": count, "per_s": round(count / wall, 1),
            "per_cpu_s": round(count / cpu, 1), "dim": embedder.dim}


def bench_related(sizes: list[int], dim: int = 384, queries: int = 50) -> dict:
    rng = np.random.default_rng(0)
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            index = PaperIndex(Path(tmp), dim)
            for start in range(0, size, 100_000):  # in blocks: bounded peak memory
                block = rng.standard_normal((min(100_000, size - start), dim),
                                            dtype=np.float32)
                block /= np.linalg.norm(block, axis=1, keepdims=True)
                index.add([f"{n}" for n in range(start, start + len(block))], block)
            ids = [str(i) for i in rng.integers(0, size, queries)]
            index.related(ids[0], 10)  # warm up
            times = []
            for arxiv_id in ids:
                started = time.perf_counter()
                index.related(arxiv_id, 10)
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            out[str(size)] = {"median_ms": round(statistics.median(times), 2),
                              "p95_ms": round(times[int(0.95 * len(times)) - 1], 2)}
            del index
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--papers", default=DEFAULT_PAPERS,
                        help="Corpus PDF stems to summarize, comma-separated.")
    parser.add_argument("--threads", type=int, default=LLMSettings().n_threads,
                        help="llama.cpp threads (default: the setting's default).")
    parser.add_argument("--skip-summaries", action="store_true")
    parser.add_argument("--skip-embeddings", action="store_true",
                        help="Skip the embedding throughput and query latency parts.")
    parser.add_argument("--grounding-all", action="store_true",
                        help="Summarize every corpus paper (slow) for the grounding rate.")
    parser.add_argument("--sizes", default="100000,1000000", help="Index sizes for latency.")
    args = parser.parse_args()
    embedder = load_embedder(EmbedderSettings())
    report: dict = {"load_average_start": os.getloadavg()}

    def stage(name: str, result: dict) -> None:
        report[name] = result
        print(json.dumps({name: result}), file=sys.stderr, flush=True)  # partial results

    if not args.skip_embeddings:
        stage("embeddings", bench_embeddings(embedder))
        stage("related_latency_ms", bench_related([int(s) for s in args.sizes.split(",")]))
    if not args.skip_summaries:
        stems = sorted(p.stem for p in (CORPUS / "pdf").glob("*.pdf")) if args.grounding_all \
            else args.papers.split(",")
        stage("summaries", bench_summaries(stems, args.threads, embedder))
    report["load_average_end"] = os.getloadavg()
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
