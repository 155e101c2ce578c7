"""Several summarizer instances, each its own OS process, on one mosquitto and one
PostgreSQL: publish parsed corpus papers and count what comes out. Used by
tests/scaleout/test_summarizers.py (a few papers) and scripts/bench_scaleout.py (20).

The papers are real corpus PDFs parsed by radio.ingest (tests/understanding/conftest.py);
the model is a real llama.cpp model shipped as a Python package. Optionally one instance
is killed (SIGKILL) while it holds a paper: its inbox row must pass to a live instance
when its lease runs out, and the paper still be summarized once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shutil
import signal
import subprocess
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import SecretStr

from radio.artifacts import DataRoot, write_atomic
from radio.config import BusSettings, Settings
from radio.messages import PaperParsed, PaperSummarized, WorkerStatus
from radio.store import Operations, Store
from tests.ingest.pdf_corpus import manifest
from tests.support.harness import BusProbe
from tests.support.procs import spawn, stop
from tests.support.understanding import parse_corpus_pdf

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
LISTING = "api/cat_csLG_OR_csAI_max20_2026-04-30.xml"  # 20 real new papers, abstracts only
ATOM = "{http://www.w3.org/2005/Atom}"
SMALL_PDFS = ("pdf/2305.03393v1_excerpt-p9.pdf", "pdf/2103.15348v2_excerpt-p1-2.pdf",
              "pdf/2310.07875v1_excerpt-p1-7.pdf")


@dataclass(frozen=True)
class CorpusPaper:
    arxiv_id: str
    version: int
    title: str
    abstract: str
    text: str | None  # None: no PDF, summarized from the abstract (as a paper without text)
    sections: dict | None

    def store_in(self, store: Operations) -> None:
        store.upsert_paper(self.arxiv_id, self.version, title=self.title, authors=[],
                           abstract=self.abstract, categories=["cs.LG"], source="local")


def corpus_papers(out_root: Path, count: int, pdfs: Sequence[str] | None = None,
                  ) -> list[CorpusPaper]:
    """`count` real papers: the corpus PDFs (these, or all), parsed by radio.ingest, then
    abstracts from a recorded arXiv listing."""
    rows = manifest()
    files = list(pdfs) if pdfs is not None else sorted(f for f in rows if f.startswith("pdf/"))
    papers = [_pdf_paper(out_root, file, rows[file]) for file in files[:count]]
    root = ET.parse(CORPUS / LISTING).getroot()
    for entry in root.iter(f"{ATOM}entry"):
        if len(papers) >= count:
            break
        match = re.search(r"abs/(.+?)v(\d+)$", entry.findtext(f"{ATOM}id") or "")
        assert match, "a listing entry without an arXiv id"
        papers.append(CorpusPaper(
            match.group(1), int(match.group(2)),
            " ".join((entry.findtext(f"{ATOM}title") or "").split()),
            " ".join((entry.findtext(f"{ATOM}summary") or "").split()), None, None))
    if len(papers) < count:
        raise RuntimeError(f"the corpus has {len(papers)} papers, {count} wanted")
    return papers


def _pdf_paper(out_root: Path, file: str, row: dict[str, str]) -> CorpusPaper:
    pdf = parse_corpus_pdf(out_root, file, row)
    return CorpusPaper(pdf.arxiv_id, pdf.version, pdf.title, pdf.abstract, pdf.text,
                       pdf.sections)


@dataclass
class Outcome:
    instances: int
    papers: int
    wall_s: float = 0.0  # from the first publish to the last paper summarized
    summarized: int = 0  # distinct papers the model summarized
    duplicates: int = 0  # summaries generated beyond one per paper (from the workers' logs)
    generated: dict[str, int] = field(default_factory=dict)  # per paper
    messages: int = 0  # PaperSummarized messages a probe saw
    message_duplicates: int = 0  # ... beyond one per paper
    summary_rows: int = 0
    backlog: int = 0  # inbox rows still pending at the end
    handled: dict[str, int] = field(default_factory=dict)  # papers summarized per instance
    killed: str | None = None
    taken_over: list[str] = field(default_factory=list)  # msg ids the killed one held
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def llm_env(model_path: Path, max_tokens: int = 900) -> dict[str, str]:
    """Environment of a summarizer on a small model (2 shared
    cores: one llama.cpp thread per instance)."""
    return {"RADIO_LLM__MODEL_PATH": str(model_path), "RADIO_LLM__N_CTX": "4096",
            "RADIO_LLM__N_THREADS": "1", "RADIO_LLM__SUMMARY_PASSAGES": "2",
            "RADIO_LLM__SUMMARY_REGENERATIONS": "0",
            "RADIO_LLM__SUMMARY__MAX_TOKENS": str(max_tokens),
            "RADIO_LLM__SUMMARY__SEED": "3", "HF_HUB_OFFLINE": "1",
            "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


def parsed(data: DataRoot, paper: CorpusPaper) -> PaperParsed:
    """What the pdf worker leaves behind for a paper: its text, sections, a card, a message."""
    out = data.paper_dir(paper.arxiv_id) / f"v{paper.version}"
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(Path(__file__), out / "title_card.png")  # any file: not read here
    card = data.artifact(out / "title_card.png")
    if paper.text is None:
        return PaperParsed(arxiv_id=paper.arxiv_id, version=paper.version, pages=1,
                           page_images=[], title_card=card, has_text_layer=False)
    write_atomic(out / "text.txt", paper.text)
    write_atomic(out / "sections.json", json.dumps(paper.sections))
    return PaperParsed(arxiv_id=paper.arxiv_id, version=paper.version,
                       text=data.artifact(out / "text.txt"), sections=[], pages=1,
                       page_images=[], title_card=card)


async def run(workdir: Path, broker_url: str, database_url: str, papers: list[CorpusPaper],
              env: dict[str, str], *, instances: int = 3, kill_one: bool = False,
              timeout_s: float = 1800) -> Outcome:
    settings = Settings(data_dir=workdir / "data", broker_url=SecretStr(broker_url),
                        database_url=database_url, bus=BusSettings(heartbeat_s=1.0))
    data = DataRoot(settings.data_dir)
    store = Store(database_url)
    with store.transaction() as t:
        for paper in papers:
            paper.store_in(t)
    messages = [parsed(data, paper) for paper in papers]
    names = [f"s{n}" for n in range(instances)]
    outcome = Outcome(instances=instances, papers=len(papers))
    logs = {name: workdir / f"summarizer-{name}.log" for name in names}
    procs = {name: spawn(["worker", "summarizer", "--instance", name], settings, logs[name],
                         RADIO_DATABASE_URL=database_url, **env) for name in names}
    try:
        async with BusProbe(settings, ["papers/summarized", "status/summarizer/#",
                                       "errors"]) as probe:
            for name in names:  # every instance subscribed and its models loaded
                await probe.expect(WorkerStatus, topic=f"status/summarizer/{name}",
                                   where=lambda s: s.state == "online", timeout=600)
            start = time.monotonic()
            for message in messages:
                await probe.publish(message)
            if kill_one:
                outcome.killed, outcome.taken_over = await _kill_a_busy_one(store, procs,
                                                                            len(papers))
            await _wait_all(store, papers, timeout_s, procs)
            outcome.wall_s = round(time.monotonic() - start, 1)
            await asyncio.sleep(3)  # a duplicate would come now
            _count(outcome, probe, store, papers, logs)
    finally:
        for proc in procs.values():
            with contextlib.suppress(subprocess.TimeoutExpired):  # killed after the timeout
                stop(proc, timeout=30)
        store.close()
    return outcome


async def _kill_a_busy_one(store: Store, procs: dict, papers: int) -> tuple[str, list[str]]:
    """SIGKILL an instance that holds papers (received, not finished), once every paper is
    in the inbox. (Before that, a message the broker handed to the dead instance and that it
    had not acknowledged waits in its broker session until an instance of that name
    reconnects: the inbox cannot take over what it never got.)"""
    deadline = time.monotonic() + 300
    while len(store.inbox_received("summarizer", PaperParsed.TOPIC, "2000")) < papers:
        if time.monotonic() > deadline:
            raise TimeoutError("the papers did not all reach the summarizers within 300 s")
        await asyncio.sleep(0.2)
    for name, proc in procs.items():
        held = [r["msg_id"] for r in store.inbox_pending("summarizer", name)]
        if held:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return name, held
    raise RuntimeError("no summarizer holds a paper: nothing to kill")


async def _wait_all(store: Store, papers: list[CorpusPaper], timeout_s: float,
                    procs: dict) -> None:
    """Until the store says every paper's summary stage is done (the bus may drop a probe
    on a loaded machine; the store is the truth)."""
    deadline = time.monotonic() + timeout_s
    while True:
        left = [p.arxiv_id for p in papers if store.stage(p.arxiv_id, p.version, "summary")
                != "done"]
        if not left:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"not summarized in {timeout_s}s: {left}")
        if all(p.poll() is not None for p in procs.values()):
            raise RuntimeError("every summarizer process has exited")
        await asyncio.sleep(0.5)


SUMMARIZED = re.compile(r"radio\.summarizer: (\S+)v(\d+) summarized \(")


def _count(outcome: Outcome, probe: BusProbe, store: Store, papers: list[CorpusPaper],
           logs: dict[str, Path]) -> None:
    # Each generation by the model logs one "summarized (" line in its instance's log.
    generated: Counter[str] = Counter()
    for name, log in logs.items():
        found = SUMMARIZED.findall(log.read_text(errors="replace"))
        outcome.handled[name] = len(found)
        generated.update(arxiv_id for arxiv_id, _ in found)
    outcome.generated = dict(generated)
    outcome.summarized = len(generated)
    outcome.duplicates = sum(generated.values()) - len(generated)
    done = probe.messages(PaperSummarized)
    outcome.messages = len(done)
    outcome.message_duplicates = len(done) - len({m.arxiv_id for m in done})
    outcome.summary_rows = len({r["arxiv_id"] for r in store.summaries(
        [p.arxiv_id for p in papers])})
    outcome.backlog = store.backlog("summarizer")
    outcome.errors = [payload.decode()[:300] for topic, payload in probe.received
                      if topic == "errors"]
