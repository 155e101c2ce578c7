"""From arXiv (or a local PDF) to a recorded paper and a `PaperFetched` message.

Shared by the fetcher worker (polls and `fetch` commands) and `radio ingest`. Each
paper version goes through the `fetch` stage in the store:

    (absent) -> pending: PDF on disk, rows written, message not yet published
             -> done:    message published (`mark_published`)
             -> failed:  with the reason; polls try it again after `retry_failed_after_s`

so a restart re-publishes what was left `pending` and never downloads a PDF twice.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from radio.artifacts import DataRoot, InvalidId, atomic_path, parse_arxiv_id, sha256_file
from radio.config import Settings
from radio.ingest.download import DownloadedPdf, download_pdf, pdf_filename
from radio.ingest.firstpage import read_first_page
from radio.ingest.polite import FetchError, PoliteClient
from radio.ingest.sources import ArxivSources, PaperMeta, pdf_url
from radio.messages import Artifact, PaperFetched
from radio.store import Store

log = logging.getLogger(__name__)

STAGE = "fetch"
NEW_TYPES = {None, "new", "cross"}
REVISION_TYPES = {"replace", "replace-cross"}


@dataclass
class Outcome:
    """What became of one requested paper."""

    key: str
    message: PaperFetched | None = None
    skipped: str | None = None
    error: str | None = None


class Ingestor:
    def __init__(self, settings: Settings, store: Store, data: DataRoot,
                 polite: PoliteClient | None = None) -> None:
        self.settings = settings
        self.store = store
        self.data = data
        self.polite = polite or PoliteClient(settings.fetcher,
                                             lock_file=data.root / ".arxiv-last-request")
        self.sources = ArxivSources(self.polite, settings)

    async def aclose(self) -> None:
        await self.polite.aclose()

    # --- what to fetch ---------------------------------------------------------------------

    async def poll(self) -> list[Outcome]:
        """Fetch the new papers of today's listing, up to the daily cap."""
        listing = await self.sources.daily_listing(self.settings.categories)
        wanted = [meta for meta in listing if self._wanted(meta)]
        room = max(0, self.settings.fetcher.max_per_day - self.fetched_today())
        if len(wanted) > room:
            log.info("daily cap: fetching %d of %d new papers", room, len(wanted))
            wanted = wanted[:room]
        wanted = await self._complete(wanted)
        return [await self.fetch(meta) for meta in wanted]

    async def fetch_ids(self, ids: list[str],
                        done: Callable[[Outcome], None] | None = None) -> list[Outcome]:
        """Fetch papers by id now (no daily cap): an operator asked for them.

        `done` is called with each outcome as it comes (for a progress bar).
        """
        done = done or (lambda outcome: None)
        outcomes: dict[str, Outcome] = {}
        valid: list[str] = []
        for raw in ids:
            try:
                base, version = parse_arxiv_id(raw)
                valid.append(f"{base}v{version}" if version else base)
            except InvalidId as exc:
                outcomes[raw] = Outcome(raw, error=str(exc))
                done(outcomes[raw])
        try:
            found = await self.sources.lookup(valid) if valid else {}
        except FetchError as exc:
            found = {}
            for key in valid:
                outcomes[key] = Outcome(key, error=str(exc))
        for key in valid:
            if key in outcomes:
                done(outcomes[key])
                continue
            meta = found.get(key)
            if meta:
                meta.by_hand = True
            outcomes[key] = await self.fetch(meta) if meta else Outcome(
                key, error=f"arXiv has no paper {key} (the API returned no entry)")
            done(outcomes[key])
        return [outcomes[raw] if raw in outcomes else outcomes[_norm(raw)] for raw in ids]

    def _wanted(self, meta: PaperMeta) -> bool:
        version = meta.version or 1
        if meta.announce_type not in NEW_TYPES | REVISION_TYPES:
            return False
        latest = self._latest_version(meta.arxiv_id)
        if latest is not None and version <= latest:
            return False  # we have this version or a newer one
        if meta.announce_type in REVISION_TYPES and latest is None:
            return False  # a revision of a paper we never aired is not news
        return self._due(meta.arxiv_id, version)

    def _due(self, arxiv_id: str, version: int) -> bool:
        row = self.store.stage_row(arxiv_id, version, STAGE)
        if row is None:
            return True
        if row["status"] != "failed":
            return False
        age = datetime.now(UTC) - datetime.fromisoformat(row["updated_at"])
        return age.total_seconds() >= self.settings.fetcher.retry_failed_after_s

    async def _complete(self, listing: list[PaperMeta]) -> list[PaperMeta]:
        """Fill dates and the primary category from the API (one request per 100)."""
        if not listing:
            return listing
        try:
            found = await self.sources.lookup([meta.key for meta in listing])
        except FetchError as exc:
            log.warning("API lookup failed, going on with the listing's metadata: %s", exc)
            return listing
        return [meta.completed_by(found[meta.key]) if meta.key in found else meta
                for meta in listing]

    def fetched_today(self) -> int:
        midnight = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        return self.store.count_fetched_since(midnight.isoformat())

    def _latest_version(self, arxiv_id: str) -> int | None:
        return self.store.latest_version(arxiv_id)

    # --- fetching --------------------------------------------------------------------------

    async def fetch(self, meta: PaperMeta) -> Outcome:
        """Licence (OAI if missing), PDF, rows; a failure is recorded, never raised."""
        version = meta.version or 1
        key = f"{meta.arxiv_id}v{version}"
        if self.store.stage(meta.arxiv_id, version, STAGE) in ("pending", "done"):
            return Outcome(key, skipped="already fetched")
        try:
            if meta.licence_url is None:
                meta.licence_url = await self._oai_licence(meta.arxiv_id)
            target = self.data.paper_dir(meta.arxiv_id) / pdf_filename(meta.arxiv_id, version)
            pdf = await download_pdf(
                self.polite, pdf_url(self.settings, meta.arxiv_id, version), target,
                max_bytes=self.settings.fetcher.max_pdf_bytes,
                timeout_s=self.settings.fetcher.download_timeout_s)
        except (FetchError, OSError) as exc:
            reason = str(exc) or type(exc).__name__
            self.store.set_stage(meta.arxiv_id, version, STAGE, "failed", reason)
            return Outcome(key, error=reason)
        return Outcome(key, message=self.record(meta, pdf))

    async def _oai_licence(self, arxiv_id: str) -> str | None:
        try:
            return await self.sources.licence(arxiv_id)
        except FetchError as exc:
            log.warning("no licence for %s from OAI-PMH: %s", arxiv_id, exc)
            return None

    def add_local(self, path: Path, arxiv_id: str | None = None) -> Outcome:
        """A PDF on disk: id from `arxiv_id`, the arXiv stamp, or the file name."""
        try:
            page = read_first_page(path)
        except Exception as exc:  # PyMuPDF raises its own types for broken files
            return Outcome(path.name, error=f"not a readable PDF: {exc}")
        raw = arxiv_id or page.arxiv_id or _id_from_name(path)
        if raw is None:
            return Outcome(path.name, error=(
                "no arXiv id (no arXiv stamp on page 1 and the file name is not an id); "
                "name it with --id"))
        try:
            base, version = parse_arxiv_id(raw)
        except InvalidId as exc:
            return Outcome(path.name, error=str(exc))
        version = version or 1
        key = f"{base}v{version}"
        if self.store.stage(base, version, STAGE) in ("pending", "done"):
            return Outcome(key, skipped="already in the store")
        meta = self._known_meta(base, version) or PaperMeta(
            arxiv_id=base, version=version, title=page.title, authors=page.authors,
            abstract=page.abstract, categories=[page.primary_category] if
            page.primary_category else [], primary_category=page.primary_category,
            updated=page.stamp_date, source="local")
        meta.by_hand = True
        if not meta.title:
            return Outcome(key, error=f"{path.name}: no title found on page 1")
        target = self.data.paper_dir(base) / pdf_filename(base, version)
        try:
            pdf = _copy_pdf(path, target)
        except (OSError, ValueError) as exc:
            return Outcome(key, error=f"{path.name}: {exc}")
        return Outcome(key, message=self.record(meta, pdf))

    def _known_meta(self, arxiv_id: str, version: int) -> PaperMeta | None:
        row = self.store.paper(arxiv_id)
        if row is None:
            return None
        return PaperMeta(
            arxiv_id=arxiv_id, version=version, title=row["title"],
            authors=json.loads(row["authors"]), abstract=row["abstract"],
            categories=json.loads(row["categories"]), primary_category=row["primary_category"],
            published=_dt(row["published"]), licence_url=row["licence_url"], source="local")

    # --- recording -------------------------------------------------------------------------

    def record(self, meta: PaperMeta, pdf: DownloadedPdf) -> PaperFetched:
        """Write papers/versions/artifacts rows and stage `pending`; return the message."""
        version = meta.version or 1
        latest = self._latest_version(meta.arxiv_id)
        artifact = Artifact(path=pdf.path.relative_to(self.data.root).as_posix(),
                            sha256=pdf.sha256, bytes=pdf.bytes)
        message = PaperFetched(
            arxiv_id=meta.arxiv_id, version=version, title=meta.title, authors=meta.authors,
            abstract=meta.abstract, categories=meta.categories,
            primary_category=meta.primary_category, published=meta.published,
            updated=meta.updated, licence_url=meta.licence_url, announce_type=meta.announce_type,
            is_revision=latest is not None and version > latest, source=meta.source,
            pdf=artifact)
        with self.store.transaction() as t:
            t.upsert_paper(
                meta.arxiv_id, version, title=meta.title, authors=meta.authors,
                abstract=meta.abstract, categories=meta.categories,
                primary_category=meta.primary_category, published=_iso(meta.published),
                updated=_iso(meta.updated), licence_url=meta.licence_url,
                announce_type=meta.announce_type, source=meta.source, by_hand=meta.by_hand)
            t.record_version(meta.arxiv_id, version, artifact.path, artifact.sha256)
            t.record_artifact(artifact, "pdf", meta.arxiv_id)
            t.set_stage(meta.arxiv_id, version, STAGE, "pending")
            t.set_kv(_message_key(meta.arxiv_id, version),
                     json.loads(message.model_dump_json()))
        return message

    def mark_published(self, message: PaperFetched) -> None:
        with self.store.transaction() as t:
            t.set_stage(message.arxiv_id, message.version, STAGE, "done")
            t.delete_kv(_message_key(message.arxiv_id, message.version))

    def unpublished(self) -> list[PaperFetched]:
        """Messages recorded but not published (a crash or a stop came between)."""
        rows = self.store.stages_in(STAGE, "pending")
        found = []
        for row in rows:
            stored = self.store.get_kv(_message_key(row["arxiv_id"], row["version"]))
            if stored is None:
                continue
            message = PaperFetched.model_validate(stored)
            try:
                self.data.verify(message.pdf)
            except (OSError, ValueError) as exc:
                self.store.set_stage(row["arxiv_id"], row["version"], STAGE, "failed",
                                     f"PDF lost before publishing: {exc}")
                continue
            found.append(message)
        return found


def _message_key(arxiv_id: str, version: int) -> str:
    return f"fetcher/message/{arxiv_id}v{version}"


def _norm(raw: str) -> str:
    base, version = parse_arxiv_id(raw)
    return f"{base}v{version}" if version else base


def _id_from_name(path: Path) -> str | None:
    """`2501.10120v2.pdf` or `2501.10120v2_anything.pdf` name their paper."""
    match = re.match(r"^(\d{4}\.\d{4,5}(?:v\d+)?)(?:$|[_ .-])", path.stem)
    return match.group(1) if match else None


def _copy_pdf(source: Path, target: Path) -> DownloadedPdf:
    with source.open("rb") as handle:
        if handle.read(5) != b"%PDF-":
            raise ValueError("not a PDF (no %PDF- header)")
    with atomic_path(target) as tmp:
        shutil.copyfile(source, tmp)
        digest = sha256_file(tmp)
        size = tmp.stat().st_size
    return DownloadedPdf(path=target, sha256=digest, bytes=size)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None

