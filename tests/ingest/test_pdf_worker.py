"""The pdf worker's handler: PaperFetched in, PaperParsed out, bad input failed with a reason.

Run in memory (tests/support/inmemory.run_handler): the runtime's inbox and publish path,
no broker.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from radio.messages import Artifact, ErrorReport, PaperFetched, PaperParsed
from radio.worker import Context
from radio.workers.pdf import PdfWorker
from tests.ingest.pdf_corpus import BAD, PDF, RAG, fetched
from tests.support.inmemory import only, run_handler
from tests.support.settings import make_settings


@pytest.fixture
async def pdf(tmp_path: Path) -> AsyncIterator[PdfWorker]:
    """The pdf worker on a fresh data dir and SQLite store, with no broker."""
    ctx = Context.from_settings(make_settings(tmp_path / "data"))
    worker = PdfWorker(ctx)
    yield worker
    await worker.teardown()
    ctx.store.close()


def _stage(ctx: Context, arxiv_id: str, version: int) -> tuple[str, str]:
    row = ctx.store.stage_row(arxiv_id, version, "pdf")
    assert row is not None, f"no pdf stage for {arxiv_id}v{version}"
    return row["status"], row["detail"]


@pytest.mark.slow
async def test_fetched_becomes_parsed_once(pdf: PdfWorker) -> None:
    ctx = pdf.ctx
    message = fetched(ctx.data, RAG)
    published = await run_handler(pdf, [message])
    (parsed,) = only(PaperParsed, published)
    assert only(ErrorReport, published) == []
    # Redelivered (a fresh copy of the same message, as the fetcher would re-send it).
    again = PaperFetched.model_validate(message.model_dump(exclude={"created_at"}))
    assert await run_handler(pdf, [again]) == []
    assert (parsed.arxiv_id, parsed.version, parsed.pages) == ("2312.10997", 5, 21)
    assert parsed.has_text_layer and parsed.text is not None
    assert parsed.text.path == "papers/2312.10997/v5/text.txt"
    assert ctx.data.verify(parsed.text).read_text().startswith(
        "Retrieval-Augmented Generation for Large Language Models: A Survey")
    assert [a.path for a in parsed.page_images][:2] == [
        "papers/2312.10997/v5/pages/001.png", "papers/2312.10997/v5/pages/002.png"]
    assert len(parsed.page_images) == 21
    ctx.data.verify(parsed.title_card)
    assert parsed.sections[:3] == ["Abstract", "Index Terms", "I INTRODUCTION"]
    status, detail = _stage(ctx, "2312.10997", 5)
    assert status == "done" and detail.startswith("21 pages")
    kinds = {r["kind"]: r["n"] for r in ctx.store.artifact_kinds("2312.10997")}
    assert kinds == {"page_image": 21, "text": 1, "sections": 1, "title_card": 1}


async def test_bad_input_fails_with_a_reason_and_the_next_paper_goes_through(
        pdf: PdfWorker) -> None:
    ctx = pdf.ctx
    encrypted = fetched(ctx.data, BAD / "2206.01062_pg3_encrypted_password-1234.pdf",
                        "2206.01062", 1, "DocLayNet")
    html = fetched(ctx.data, BAD / "oai_http503_retry_after.html", "2401.00001", 1, "HTML")
    good = fetched(ctx.data, PDF / "2304.02623v1.pdf", "2304.02623", 1, "Beyond Summarization")
    tampered = fetched(ctx.data, PDF / "2305.03393v1_excerpt-p9.pdf", "2305.03393", 1, "OTSL")
    tampered = tampered.model_copy(update={"pdf": Artifact(
        path=tampered.pdf.path, sha256="0" * 64, bytes=tampered.pdf.bytes), "id": ""})
    tampered = PaperFetched.model_validate(tampered.model_dump())  # id from the new checksum
    published = await run_handler(pdf, [encrypted, html, tampered, good])
    assert [m.arxiv_id for m in only(PaperParsed, published)] == ["2304.02623"]
    reasons = {e.key: e.reason for e in only(ErrorReport, published)}
    assert len(reasons) == 3
    assert "encrypted" in reasons["2206.01062"] and "PermanentError" in reasons["2206.01062"]
    assert "not_a_pdf" in reasons["2401.00001"]
    assert "checksum mismatch" in reasons["2305.03393"]
    assert _stage(ctx, "2206.01062", 1) == ("failed",
                                            "encrypted: password-protected (encrypted) PDF")
    assert _stage(ctx, "2401.00001", 1)[0] == "failed"
    assert _stage(ctx, "2304.02623", 1)[0] == "done"
    assert not (ctx.data.paper_dir("2206.01062") / "v1").exists()  # nothing half-written
    failures = ctx.store.failures(worker="pdf")
    assert {row["key"] for row in failures} == {"2206.01062", "2401.00001", "2305.03393"}


async def test_scanned_pdf_is_parsed_without_text(pdf: PdfWorker) -> None:
    ctx = pdf.ctx
    scanned = fetched(ctx.data, BAD / "scanned_no_text_layer_4pages_rotated.pdf",
                      "2402.00002", 1, "A scan")
    (parsed,) = only(PaperParsed, await run_handler(pdf, [scanned]))
    assert parsed.has_text_layer is False and parsed.text is None and parsed.sections == []
    assert len(parsed.page_images) == parsed.pages == 4
    status, detail = _stage(ctx, "2402.00002", 1)
    assert status == "no_text" and detail.startswith("no text layer")


def test_a_parsed_version_is_not_parsed_again(tmp_path: Path) -> None:
    ctx = Context.from_settings(make_settings(tmp_path / "data"))
    worker = PdfWorker(ctx)
    message = fetched(ctx.data, PDF / "2304.02623v1.pdf", "2304.02623", 1, "Beyond")
    first = worker.process(message)
    text = ctx.data.resolve(first.text)
    stamp = text.stat().st_mtime_ns
    second = worker.process(message)
    assert second == first  # the stored message, same id: downstream inboxes drop it
    assert text.stat().st_mtime_ns == stamp
    stored = json.loads((text.parent / "parsed.json").read_text())
    assert stored["parsed"]["id"] == first.id
    assert stored["source"]["sha256"] == message.pdf.sha256
    # The same version fetched again as another file is parsed again.
    other = fetched(ctx.data, PDF / "2305.03393v1_excerpt-p9.pdf", "2304.02623", 1, "Beyond")
    third = worker.process(other)
    assert third.pages == 1 and third.id != first.id
    ctx.store.close()
