"""pdf: Turns a fetched PDF into clean text, sections, page images and a title card.

Consumes `papers/fetched`, produces `papers/parsed`. The parse runs in a child process
under `settings.pdf` limits (pages, bytes, time, memory) and writes
`papers/<id>/v<version>/` whole or not at all (layout: radio/ingest/pdf_parse.py).

Idempotent: a PDF already parsed is not parsed again; the PaperParsed stored beside its
text (`parsed.json`, with the source PDF's checksum) is published again unchanged, with
the same id, so downstream inboxes drop it. Bad input (checksum mismatch, not a PDF,
encrypted, truncated, too big, too slow) is a PermanentError: the `pdf` stage is marked
failed with the reason and nothing else changes. A scanned PDF is no failure: it gets
page images, the stage `no_text`, and `has_text_layer=False`.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path
from typing import NoReturn

from radio.artifacts import InvalidId, write_atomic
from radio.ingest.pdf_images import CardInfo
from radio.ingest.pdf_parse import ParseResult, PdfError, parse_isolated
from radio.messages import Artifact, Message, PaperFetched, PaperParsed
from radio.worker import PermanentError, Worker

STAGE = "pdf"
DONE = ("done", "no_text")


class PdfWorker(Worker[PaperFetched]):
    name = "pdf"
    preload = ("pymupdf",)
    consumes = (PaperFetched,)
    produces = (PaperParsed,)

    async def handle(self, message: PaperFetched) -> None:
        try:
            parsed = await asyncio.to_thread(self.process, message)
        except PermanentError:
            raise
        except Exception as exc:  # retried by the runtime; meanwhile the store says why
            self.store.set_stage(message.arxiv_id, message.version, STAGE, "failed",
                                 f"{type(exc).__name__}: {exc}")
            raise
        await self.publish(parsed)

    def process(self, message: PaperFetched) -> PaperParsed:
        """Parse and record one paper version (blocking: runs in a thread)."""
        out = self._out_dir(message)
        earlier = self._already_parsed(message, out)
        if earlier is not None:
            self.log.info("%sv%d already parsed: publishing it again", message.arxiv_id,
                          message.version)
            return earlier
        pdf = self._verified_pdf(message)
        self._record_paper(message)
        try:
            result = parse_isolated(pdf, out, card_of(message), self.settings.pdf)
        except PdfError as exc:
            self._fail(message, f"{exc.code}: {exc}")
        parsed = self._parsed(message, out, result)
        record = {"source": message.pdf.model_dump(), "parsed": parsed.model_dump(mode="json")}
        write_atomic(out / "parsed.json", json.dumps(record))
        self._record_result(message, parsed, result)
        return parsed

    def pending(self, topic: str, since: str) -> list[Message]:
        """Papers parsed, from their parsed.json (radio/recovery.py)."""
        found: list[Message] = []
        for row in self.store.stages_since(STAGE, DONE, since):
            try:
                out = self.data.paper_dir(row["arxiv_id"]) / f"v{row['version']}"
                record = json.loads((out / "parsed.json").read_bytes())
                found.append(PaperParsed.model_validate(record["parsed"]))
            except (InvalidId, OSError, ValueError, KeyError, TypeError):
                continue  # gone or damaged: parsed again when it is fetched again
        return found

    def _out_dir(self, message: PaperFetched) -> Path:
        try:
            return self.data.paper_dir(message.arxiv_id) / f"v{message.version}"
        except InvalidId as exc:
            raise PermanentError(str(exc)) from exc

    def _already_parsed(self, message: PaperFetched, out: Path) -> PaperParsed | None:
        """The message published for this very PDF before, if its output is still there."""
        if self.store.stage(message.arxiv_id, message.version, STAGE) not in DONE:
            return None
        try:
            record = json.loads((out / "parsed.json").read_bytes())
            if Artifact.model_validate(record["source"]) != message.pdf:
                return None  # the same version fetched again as a different file
            return PaperParsed.model_validate(record["parsed"])
        except (OSError, ValueError, KeyError, TypeError):
            return None  # recorded but gone or damaged: parse again

    def _verified_pdf(self, message: PaperFetched) -> Path:
        try:
            return self.data.verify(message.pdf)
        except (OSError, ValueError) as exc:  # missing, outside the root, checksum mismatch
            self._fail(message, f"pdf artifact: {exc}")

    def _fail(self, message: PaperFetched, reason: str) -> NoReturn:
        self.store.set_stage(message.arxiv_id, message.version, STAGE, "failed", reason)
        raise PermanentError(reason)

    def _parsed(self, message: PaperFetched, out: Path, result: ParseResult) -> PaperParsed:
        def artifact(name: str) -> Artifact:
            return self.data.artifact(out / name)

        return PaperParsed(
            arxiv_id=message.arxiv_id, version=message.version,
            text=artifact(result.text_file) if result.text_file else None,
            sections=result.sections, pages=result.pages,
            page_images=[artifact(name) for name in result.page_images],
            title_card=artifact(result.title_card), has_text_layer=result.has_text_layer)

    # --- the store ------------------------------------------------------------------------

    def _record_paper(self, message: PaperFetched) -> None:
        """Make sure the paper and version rows exist (the fetcher normally wrote them)."""
        with self.store.transaction() as t:
            t.ensure_paper(
                message.arxiv_id, message.version, title=message.title,
                authors=message.authors, abstract=message.abstract,
                categories=message.categories, primary_category=message.primary_category,
                published=_iso(message.published), updated=_iso(message.updated),
                licence_url=message.licence_url, announce_type=message.announce_type,
                source=message.source)
            t.ensure_version(message.arxiv_id, message.version, message.pdf.path,
                             message.pdf.sha256)

    def _record_result(self, message: PaperFetched, parsed: PaperParsed,
                       result: ParseResult) -> None:
        kinds = [("title_card", parsed.title_card)]
        kinds += [("page_image", image) for image in parsed.page_images]
        if parsed.text is not None:
            sections = self.data.artifact(self.data.resolve(parsed.text).with_name(
                "sections.json"))
            kinds += [("text", parsed.text), ("sections", sections)]
        with self.store.transaction() as t:
            for kind, item in kinds:
                t.record_artifact(item, kind, message.arxiv_id)
        status, detail = _outcome(result)
        self.store.set_stage(message.arxiv_id, message.version, STAGE, status, detail)


def card_of(message: PaperFetched) -> CardInfo:
    """The title card's content: arXiv metadata only (CC0)."""
    when = message.published or message.updated
    category = message.primary_category or (message.categories[0] if message.categories else None)
    return CardInfo(arxiv_id=message.arxiv_id, title=message.title,
                    authors=tuple(message.authors), abstract=message.abstract,
                    version=message.version, category=category,
                    date=when.date().isoformat() if when else None)


def _outcome(result: ParseResult) -> tuple[str, str]:
    shown = f"{result.pages_parsed} of {result.pages} pages" \
        if result.pages_parsed < result.pages else f"{result.pages} pages"
    if not result.has_text_layer:
        return "no_text", (f"no text layer ({result.chars} characters in {shown}): "
                           "page images and title card only")
    return "done", f"{shown}, {len(result.sections)} sections, {result.chars} characters"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
