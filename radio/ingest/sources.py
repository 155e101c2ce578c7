"""arXiv's metadata sources: the export API, the daily RSS listing, OAI-PMH.

- API (`arxiv` package): metadata of papers by id. The package builds the query URL
  from `Client.query_url_format` (pointed at `settings.arxiv_base_url`) and parses the
  Atom feed; the request itself goes through our `PoliteClient`, so it keeps the same
  one-at-a-time, 3-second rule as every other request (the package's own fetch uses a
  blocking `requests` session with a separate clock).
- RSS (rss.arxiv.org, via feedparser): the day's announcements per category, with
  `arxiv:announce_type` (new, cross, replace, ...) and the licence in `dc:rights`.
- OAI-PMH (`arXiv` metadata format): the licence where the feed has none.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from time import struct_time

import arxiv
import feedparser
from arxiv import _feed as arxiv_feed
from lxml import etree

from radio.artifacts import InvalidId, parse_arxiv_id
from radio.config import Settings
from radio.ingest.polite import PermanentFetchError, PoliteClient
from radio.messages import PaperSource

log = logging.getLogger(__name__)

API_BATCH = 100  # ids per API request
_ATOM = "{http://www.w3.org/2005/Atom}"
_OAI = "{http://www.openarchives.org/OAI/2.0/}"
_OAI_ARXIV = "{http://arxiv.org/OAI/arXiv/}"
_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


class ArxivApiError(PermanentFetchError):
    """arXiv answered with an error (bad id, bad query) or with something unreadable."""


@dataclass
class PaperMeta:
    """What arXiv says about one version of a paper, before its PDF is fetched."""

    arxiv_id: str  # versionless, validated
    version: int | None
    title: str
    authors: list[str]
    abstract: str
    categories: list[str] = field(default_factory=list)
    primary_category: str | None = None
    published: datetime | None = None
    updated: datetime | None = None
    licence_url: str | None = None
    announce_type: str | None = None
    source: PaperSource = "api"
    by_hand: bool = False  # an operator asked for it (shows take it whatever its category)

    @property
    def key(self) -> str:
        return f"{self.arxiv_id}v{self.version}" if self.version else self.arxiv_id

    def completed_by(self, api: PaperMeta) -> PaperMeta:
        """A listing's record with the API's dates and primary category (the listing has
        only the announcement date and no marked primary), and any other gap filled."""
        gaps = {name: getattr(api, name) for name in
                ("version", "licence_url", "announce_type") if getattr(self, name) is None}
        gaps.update({name: getattr(api, name) for name in
                     ("title", "authors", "abstract", "categories") if not getattr(self, name)})
        gaps.update({name: getattr(api, name) for name in
                     ("primary_category", "published", "updated") if getattr(api, name)})
        return replace(self, **gaps)


class ArxivSources:
    """The three metadata sources, all fetched through one `PoliteClient`."""

    def __init__(self, polite: PoliteClient, settings: Settings) -> None:
        self.polite = polite
        self.settings = settings
        # The package's pacing and retries are ours to do: it only builds URLs and parses.
        self.api = arxiv.Client(page_size=API_BATCH, delay_seconds=0, num_retries=0)
        self.api.query_url_format = settings.arxiv_base_url.rstrip("/") + "/api/query?{}"

    # --- API -----------------------------------------------------------------------------

    async def lookup(self, ids: list[str]) -> dict[str, PaperMeta]:
        """Metadata by id (with or without version); ids arXiv does not know are absent.

        Keys are the ids as asked for, normalised (`2501.10120` or `2501.10120v2`).
        """
        wanted = [_normalise(raw) for raw in ids]
        found: dict[str, PaperMeta] = {}
        for start in range(0, len(wanted), API_BATCH):
            batch = wanted[start:start + API_BATCH]
            for meta in await self.results(arxiv.Search(id_list=batch, max_results=len(batch))):
                for key in (meta.key, meta.arxiv_id):
                    if key in batch:
                        found[key] = meta
        return found

    async def results(self, search: arxiv.Search) -> list[PaperMeta]:
        """One page (up to `API_BATCH`) of an API search; ArxivApiError if arXiv objects."""
        size = min(search.max_results or API_BATCH, API_BATCH)
        url = self.api._format_url(search, 0, size)
        response = await self.polite.get(url, accept=(200, 400))
        _raise_api_error(response.content, response.status_code)
        return [_from_api(result) for result in arxiv_feed.parse(response.content).results]

    # --- RSS -----------------------------------------------------------------------------

    async def daily_listing(self, categories: list[str]) -> list[PaperMeta]:
        """Today's announcements in `categories` (one request: rss.arxiv.org joins with +)."""
        base = self.settings.fetcher.rss_base_url.rstrip("/")
        response = await self.polite.get(f"{base}/rss/{'+'.join(categories)}")
        feed = feedparser.parse(response.content)
        # No channel and no item: not an RSS answer at all (an empty body parses cleanly).
        if not feed.entries and not feed.get("feed", {}).get("title"):
            raise ArxivApiError(f"unreadable RSS listing for {'+'.join(categories)}: "
                                f"{feed.get('bozo_exception')}")
        papers: dict[str, PaperMeta] = {}
        for entry in feed.entries:
            meta = _from_rss(entry)
            if meta is not None:
                papers.setdefault(meta.key, meta)  # cross-lists repeat across categories
        return list(papers.values())

    # --- OAI-PMH -------------------------------------------------------------------------

    async def licence(self, arxiv_id: str) -> str | None:
        """The licence URL from OAI-PMH; None when the record has none or does not exist."""
        base, _ = parse_arxiv_id(arxiv_id)
        params = {"verb": "GetRecord", "identifier": f"oai:arXiv.org:{base}",
                  "metadataPrefix": "arXiv"}
        response = await self.polite.get(self.settings.fetcher.oai_base_url, params=params)
        try:
            root = etree.fromstring(response.content, parser=_XML)
        except etree.XMLSyntaxError as exc:
            raise ArxivApiError(f"unreadable OAI-PMH answer for {base}: {exc}") from exc
        error = root.find(f"{_OAI}error")
        if error is not None:
            if error.get("code") == "idDoesNotExist":
                return None
            raise ArxivApiError(f"OAI-PMH error for {base}: {error.get('code')}: "
                                f"{(error.text or '').strip()}")
        licence = root.find(f".//{_OAI_ARXIV}license")
        return licence.text.strip() if licence is not None and licence.text else None


def pdf_url(settings: Settings, arxiv_id: str, version: int) -> str:
    base, _ = parse_arxiv_id(arxiv_id)
    return f"{settings.fetcher.pdf_base_url.rstrip('/')}/pdf/{base}v{version}"


def _normalise(raw: str) -> str:
    base, version = parse_arxiv_id(raw)
    return f"{base}v{version}" if version else base


def _raise_api_error(body: bytes, status: int) -> None:
    """arXiv reports API errors as an Atom entry titled `Error` (with HTTP 400)."""
    try:
        root = etree.fromstring(body, parser=_XML)
    except etree.XMLSyntaxError as exc:
        raise ArxivApiError(f"unreadable arXiv API answer (HTTP {status}): {exc}",
                            status=status, body=body[:2000]) from exc
    for entry in root.iter(f"{_ATOM}entry"):
        entry_id = entry.findtext(f"{_ATOM}id") or ""
        if "/api/errors" in entry_id:
            reason = " ".join((entry.findtext(f"{_ATOM}summary") or entry_id).split())
            raise ArxivApiError(f"arXiv API error: {reason}", status=status, body=body[:2000])
    if status != 200:
        raise ArxivApiError(f"arXiv API answered HTTP {status}", status=status, body=body[:2000])


def _from_api(result: arxiv.Result) -> PaperMeta:
    base, version = parse_arxiv_id(result.get_short_id())
    return PaperMeta(
        arxiv_id=base, version=version, title=_squash(result.title),
        authors=[a.name for a in result.authors], abstract=_squash(result.summary),
        categories=list(result.categories), primary_category=result.primary_category or None,
        published=result.published, updated=result.updated, source="api")


_ABSTRACT_PREFIX = re.compile(r"^.*?Announce Type:\s*\S+\s*(?:Abstract:\s*)?", re.S)


def _from_rss(entry: feedparser.FeedParserDict) -> PaperMeta | None:
    try:
        base, version = parse_arxiv_id(entry.get("id") or entry.get("link") or "")
    except InvalidId:
        log.warning("RSS item without an arXiv id skipped: %r", entry.get("title", "")[:80])
        return None
    categories = [tag.term for tag in entry.get("tags", []) if tag.get("term")]
    return PaperMeta(
        arxiv_id=base, version=version, title=_squash(entry.get("title", "")),
        authors=_split_authors(entry.get("author", "")),
        abstract=_squash(_ABSTRACT_PREFIX.sub("", entry.get("summary", ""), count=1)),
        categories=categories, primary_category=categories[0] if categories else None,
        published=_to_datetime(entry.get("published_parsed")),
        licence_url=(entry.get("rights") or "").strip() or None,
        announce_type=(entry.get("arxiv_announce_type") or "").strip() or None,
        source="rss")


def _split_authors(text: str) -> list[str]:
    parts = re.split(r",\s*|\s+and\s+", text.strip())
    return [" ".join(part.split()) for part in parts if part.strip()]


def _squash(text: str) -> str:
    return " ".join(text.split())


def _to_datetime(value: struct_time | None) -> datetime | None:
    if value is None:
        return None
    return datetime(*value[:6], tzinfo=UTC)
