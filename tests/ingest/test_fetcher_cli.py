"""`radio ingest ID_OR_PATH...` as an operator runs it: a separate process, real bus."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import pytest

from radio.config import Settings
from radio.messages import PaperFetched
from radio.store import Store
from tests.support.arxiv_standin import ArxivStandIn
from tests.support.harness import BusProbe
from tests.support.ports import free_port
from tests.support.procs import ROOT, radio_env
from tests.support.settings import FAST_FETCH, make_settings

RAG = "Retrieval-Augmented Generation for Large Language Models: A Survey"
XY = "XYLayoutLM: Towards Layout-Aware Multimodal Networks For Visually-Rich Document " \
     "Understanding"


async def _ingest(settings: Settings, standin: ArxivStandIn, *args: str) -> tuple[int, str]:
    env = radio_env(settings, **standin.env(**FAST_FETCH), COLUMNS="200")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "radio", "ingest", *args, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode()


@pytest.mark.slow  # two `radio` processes: the CLI imports the whole station
async def test_ingest_ids_and_local_pdfs(settings: Settings, standin: ArxivStandIn,
                                         corpus: Path, tmp_path: Path) -> None:
    local = tmp_path / "rag survey.pdf"  # the id comes from the arXiv stamp on page 1
    shutil.copy(corpus / "pdf/2312.10997v5.pdf", local)
    named = corpus / "pdf/2203.06947.pdf"  # no stamp: the id comes from the file name
    async with BusProbe(settings, [PaperFetched.TOPIC]) as probe:
        code, out = await _ingest(settings, standin, str(local), str(named), "1111.2011v2")
        assert code == 0, out
        await probe.expect(PaperFetched, count=3, timeout=30)
    messages = {m.arxiv_id: m for m in probe.messages(PaperFetched)}
    rag, xy, api = messages["2312.10997"], messages["2203.06947"], messages["1111.2011"]
    assert (rag.title, rag.version, rag.source) == (RAG, 5, "local")
    assert rag.abstract.startswith("Large Language Models (LLMs) showcase impressive "
                                   "capabilities but encounter challenges like hallucination")
    assert rag.primary_category == "cs.CL" and rag.authors[0] == "Yunfan Gao"
    assert (xy.title, xy.version) == (XY, 1)
    assert (api.version, api.source, api.primary_category) == (2, "api", "cond-mat.str-el")
    assert [r.path for r in standin.requests if r.path.startswith("/pdf/")] == \
        ["/pdf/1111.2011v2"]  # local files are not downloaded
    store = Store(settings.database_path)
    stages = store.all_stages()
    assert [(row["arxiv_id"], row["status"]) for row in stages] == [
        ("1111.2011", "done"), ("2203.06947", "done"), ("2312.10997", "done")]
    store.close()
    assert (settings.data_dir / "papers/2312.10997/2312.10997v5.pdf").read_bytes() == \
        local.read_bytes()
    # Again: nothing new, nothing fetched twice.
    code, out = await _ingest(settings, standin, str(local), "1111.2011v2")
    assert code == 0 and out.count("already") == 2, out
    assert len(standin.times("/pdf/")) == 1


@pytest.mark.slow
async def test_bad_local_files_are_refused_clearly(standin: ArxivStandIn, corpus: Path,
                                                   tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    settings.bus.embedded_port = free_port()  # no station running: nothing to publish to
    anonymous = tmp_path / "paper.pdf"
    shutil.copy(corpus / "pdf/2203.06947.pdf", anonymous)
    code, out = await _ingest(settings, standin, str(anonymous),
                              str(corpus / "bad/not_a_pdf_corrupted.pdf"),
                              str(corpus / "bad/2206.01062_pg3_encrypted_password-1234.pdf"),
                              str(tmp_path / "missing.pdf"))
    assert code == 1
    assert "no arXiv id (no arXiv stamp on page 1 and the file name is not an id)" in out
    assert "not a readable PDF" in out and "is encrypted" in out
    assert "no such file" in out
    assert not (settings.data_dir / "papers").exists()
    code, out = await _ingest(settings, standin, "--id", "2203.06947v1", str(anonymous))
    assert code == 0, out
    assert "station not reachable on the bus" in out  # recorded; the fetcher announces it
    store = Store(settings.database_path)
    assert store.stage("2203.06947", 1, "fetch") == "pending"
    store.close()
