"""A local HTTP server that stands in for arXiv, serving the recorded corpus.

    with ArxivStandIn() as arxiv:                      # 127.0.0.1, a free port, a thread
        settings = arxiv.configure(settings)           # point the station at it
        arxiv.listing("cs.CL", ["2312.10997v5"])       # today's RSS listing for cs.CL
        arxiv.fault("/pdf/", "truncated")              # next PDF is cut in half
        ...
        arxiv.times("/pdf/")                           # when each PDF request arrived

Endpoints, as on arXiv:
- `/api/query` (export API): `id_list` lookups. A lookup the corpus recorded verbatim is
  answered with that file byte for byte; otherwise the feed is assembled, in the 2026
  format of the recordings, from recorded entries (every `<entry>` of `corpus/api/`) and,
  for corpus PDFs that have no recorded entry, from an entry BUILT FROM THE PAPER'S OWN
  FIRST PAGE (title, authors, abstract as printed; id, version, primary category and
  date from the arXiv margin stamp). Malformed ids get the recorded HTTP 400 error feed
  (`bad/api_error_http400_id_abc.xml`, with the id put in); unknown ids get zero results.
- `/rss/<cat>[+<cat>...]` (rss.arxiv.org): a recorded feed byte for byte (cs.AI, cs.CL,
  cs.LG), or a listing set with `listing()`, whose items are built like the API entries
  above, in the recorded item format; an unknown category gives an empty channel.
- `/oai` (OAI-PMH): GetRecord (metadataPrefix=arXiv) for the recorded records,
  `idDoesNotExist` otherwise; Identify and ListMetadataFormats as recorded.
- `/pdf/<id>[v<n>]`: the corpus PDF (excerpts are served as if they were the paper);
  404 with an HTML page otherwise.

Faults (`fault(prefix, kind, times=1)`): "503" (the recorded rate-limit page with
Retry-After, 10 s as recorded unless `retry_after` says otherwise), "429", "500",
"html" (an HTML page instead of a PDF), "empty" (0 bytes), "truncated" (the first half
of the PDF, with a matching Content-Length), "drop" (the connection closes halfway
through the body), "hang" (never answers), "trickle" (the right answer, 64 bytes at a time
every `pace` seconds, 0.5 unless said: a server that is alive but hopelessly slow),
"malformed" (the right XML answer cut off in the middle of an element).
"""

from __future__ import annotations

import argparse
import csv
import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from functools import cached_property
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from radio.config import Settings
from radio.ingest.firstpage import read_first_page

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
NONEXCLUSIVE = "http://arxiv.org/licenses/nonexclusive-distrib/1.0/"
_ATOM_NS = "http://www.w3.org/2005/Atom"
_ID = re.compile(r"^(?:\d{4}\.\d{4,5}|[a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?$")
_ABS_ID = re.compile(r"arxiv\.org/abs/(?P<id>.+?)(?:v(?P<v>\d+))?$")


@dataclass
class Logged:
    """One request as the server saw it; `at` is time.time() on arrival."""

    at: float
    path: str
    query: dict[str, str]
    status: int = 0
    fault: str | None = None


@dataclass
class Fault:
    prefix: str
    kind: str
    times: int | None
    retry_after: float | None = None
    pace: float = 0.5


@dataclass
class Paper:
    """A corpus PDF and what its first page says."""

    arxiv_id: str  # versionless
    version: int | None
    path: Path
    title: str = ""
    authors: list[str] = field(default_factory=list)
    abstract: str = ""
    category: str | None = None
    date: datetime | None = None


class ArxivStandIn:
    def __init__(self, corpus: Path = CORPUS, host: str = "127.0.0.1", port: int = 0) -> None:
        if not (corpus / "MANIFEST.tsv").is_file():
            raise FileNotFoundError(f"no corpus at {corpus}")
        self.corpus = corpus
        self._address = (host, port)
        self._log: list[Logged] = []
        self._faults: list[Fault] = []
        self._listings: dict[str, list[tuple[str, str, str | None]]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- life ------------------------------------------------------------------------------

    def start(self) -> ArxivStandIn:
        self._server = ThreadingHTTPServer(self._address, _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name="arxiv-standin")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ArxivStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() first"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def configure(self, settings: Settings, **fetcher: Any) -> Settings:
        """`settings` pointed at this server; `fetcher` overrides FetcherSettings fields."""
        section = settings.fetcher.model_copy(update={
            "rss_base_url": self.base_url, "oai_base_url": f"{self.base_url}/oai",
            "pdf_base_url": self.base_url, **fetcher})
        return settings.model_copy(update={"arxiv_base_url": self.base_url, "fetcher": section})

    def env(self, **fetcher: Any) -> dict[str, str]:
        """The same as `configure`, as RADIO_* variables for a `radio` subprocess."""
        found = {"RADIO_ARXIV_BASE_URL": self.base_url,
                 "RADIO_FETCHER__RSS_BASE_URL": self.base_url,
                 "RADIO_FETCHER__OAI_BASE_URL": f"{self.base_url}/oai",
                 "RADIO_FETCHER__PDF_BASE_URL": self.base_url}
        found.update({f"RADIO_FETCHER__{key.upper()}": str(value)
                      for key, value in fetcher.items()})
        return found

    # --- what tests control and read ------------------------------------------------------

    def listing(self, category: str, ids: list[str], *, announce_type: str = "new",
                licence: str | None = NONEXCLUSIVE) -> None:
        """Serve `ids` (corpus PDFs with a versioned id) as today's RSS listing of `category`.

        A listing replaces the recorded feed of the category (`listing(cat, [])` empties
        it); calls add up. The licence defaults to arXiv's non-exclusive licence, which
        the corpus README says to assume; `None` leaves `dc:rights` out.
        """
        for arxiv_id in ids:
            self._paper(arxiv_id, need_version=True)  # fail early on ids the corpus lacks
        with self._lock:
            self._listings.setdefault(category, []).extend(
                (arxiv_id, announce_type, licence) for arxiv_id in ids)

    def fault(self, prefix: str, kind: str, *, times: int | None = 1,
              retry_after: float | None = None, pace: float = 0.5) -> None:
        if kind not in _FAULTS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(_FAULTS)}")
        with self._lock:
            self._faults.append(Fault(prefix, kind, times, retry_after, pace))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def requests(self) -> list[Logged]:
        with self._lock:
            return list(self._log)

    def times(self, prefix: str = "") -> list[float]:
        return [r.at for r in self.requests if r.path.startswith(prefix)]

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    # --- corpus ----------------------------------------------------------------------------

    @cached_property
    def manifest(self) -> list[dict[str, str]]:
        with (self.corpus / "MANIFEST.tsv").open(newline="") as handle:
            return list(csv.DictReader(handle, delimiter="\t"))

    @cached_property
    def papers(self) -> dict[str, list[Paper]]:
        """Corpus PDFs (pdf/ only) by versionless id."""
        found: dict[str, list[Paper]] = {}
        for row in self.manifest:
            if not row["file"].startswith("pdf/") or not row["arxiv_id"]:
                continue
            match = re.match(r"^(.+?)(?:v(\d+))?$", row["arxiv_id"])
            assert match is not None
            version = int(match.group(2)) if match.group(2) else None
            found.setdefault(match.group(1), []).append(
                Paper(match.group(1), version, self.corpus / row["file"]))
        return found

    def _paper(self, raw: str, *, need_version: bool = False) -> Paper | None:
        match = _ABS_ID.search(f"arxiv.org/abs/{raw}")
        assert match is not None
        candidates = self.papers.get(match.group("id"), [])
        version = int(match.group("v")) if match.group("v") else None
        for paper in candidates:
            if version is None or paper.version == version:
                if need_version and paper.version is None:
                    break
                return self._read(paper)
        if need_version:
            raise KeyError(f"no corpus PDF with a known version for {raw}")
        return None

    def _read(self, paper: Paper) -> Paper:
        if not paper.title:
            page = read_first_page(paper.path)
            paper.title, paper.authors, paper.abstract = page.title, page.authors, page.abstract
            paper.category, paper.date = page.primary_category, page.stamp_date
        return paper

    @cached_property
    def recorded_entries(self) -> dict[str, bytes]:
        """Every recorded API `<entry>`, by id with version and by versionless id."""
        entries: dict[str, bytes] = {}
        for path in sorted((self.corpus / "api").glob("*.xml")):
            root = etree.parse(str(path)).getroot()
            for entry in root.iter(f"{{{_ATOM_NS}}}entry"):
                match = _ABS_ID.search(entry.findtext(f"{{{_ATOM_NS}}}id") or "")
                if not match:
                    continue
                xml = etree.tostring(entry, encoding="unicode").encode()
                entries.setdefault(f"{match.group('id')}v{match.group('v')}", xml)
                entries.setdefault(match.group("id"), xml)
        return entries

    @cached_property
    def recorded_lookups(self) -> dict[str, Path]:
        """Single-lookup responses recorded verbatim, by their `id_list`."""
        found = {}
        for row in self.manifest:
            match = re.search(r"recorded URL \S*id_list=([^&\s]+)", row["notes"])
            if row["file"].endswith(".xml") and match:
                found[unquote(match.group(1))] = self.corpus / row["file"]
        return found

    @cached_property
    def oai_records(self) -> dict[str, bytes]:
        records = {}
        for path in sorted((self.corpus / "oai").glob("*.xml")):
            root = etree.parse(str(path)).getroot()
            nodes = [root] if etree.QName(root).localname == "record" else \
                root.iter("{http://www.openarchives.org/OAI/2.0/}record")
            for record in nodes:
                ident = record.findtext(".//{http://www.openarchives.org/OAI/2.0/}identifier") \
                    or record.findtext(".//identifier") or ""
                records.setdefault(ident.strip(), etree.tostring(record, encoding="unicode")
                                   .encode())
        return records

    # --- answers -----------------------------------------------------------------------------

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if path == "/api/query":
            return self._api(query)
        if path.startswith("/rss/"):
            return self._rss(unquote(path.removeprefix("/rss/")))
        if path in ("/oai", "/oai2"):
            return self._oai(query)
        if path.startswith("/pdf/"):
            return self._pdf(unquote(path.removeprefix("/pdf/")).removesuffix(".pdf"))
        return 404, _HTML, b"<html><body><h1>Not Found</h1></body></html>"

    def _api(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        ids = [i for i in query.get("id_list", "").split(",") if i]
        bad = [i for i in ids if not _ID.match(i)]
        if bad:
            body = (self.corpus / "bad/api_error_http400_id_abc.xml").read_bytes()
            return 400, _ATOM, body.replace(b"for_abc", f"for_{bad[0]}".encode()).replace(
                b"for abc", f"for {bad[0]}".encode())
        if len(ids) == 1 and ids[0] in self.recorded_lookups:
            return 200, _ATOM, self.recorded_lookups[ids[0]].read_bytes()
        entries = [entry for entry in (self._entry(i) for i in ids) if entry]
        return 200, _ATOM, _feed(query, entries)

    def _entry(self, raw: str) -> bytes | None:
        if raw in self.recorded_entries:
            return self.recorded_entries[raw]
        try:
            paper = self._paper(raw, need_version=True)
        except KeyError:
            return None
        return _entry_xml(paper) if paper else None

    def _rss(self, categories: str) -> tuple[int, dict[str, str], bytes]:
        cats = [c for c in categories.split("+") if c]
        with self._lock:  # a listing set for a category replaces its recorded feed
            listings = {c: list(self._listings[c]) for c in cats if c in self._listings}
        recorded = {c: self.corpus / f"rss/rss.arxiv.org_{c}_3items.xml" for c in cats}
        if len(cats) == 1 and cats[0] not in listings and recorded[cats[0]].is_file():
            return 200, _RSS, recorded[cats[0]].read_bytes()
        items: dict[str, str] = {}
        for cat in cats:
            for arxiv_id, kind, licence in listings.get(cat, []):
                paper = self._paper(arxiv_id, need_version=True)
                assert paper is not None
                items.setdefault(f"{paper.arxiv_id}v{paper.version}",
                                 _item_xml(paper, kind, licence))
            if cat not in listings and recorded[cat].is_file():
                text = recorded[cat].read_text()
                for item in re.findall(r"    <item>.*?</item>\n", text, re.S):
                    guid = re.search(r"<guid[^>]*>(.*?)</guid>", item)
                    items.setdefault(guid.group(1) if guid else item, item)
        return 200, _RSS, _channel("+".join(cats), list(items.values()))

    def _oai(self, query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        verb = query.get("verb", "")
        if verb in ("Identify", "ListMetadataFormats") and "identifier" not in query:
            return 200, _XML, (self.corpus / f"oai/{verb}.xml").read_bytes()
        if verb != "GetRecord":
            return 200, _XML, _oai_error(verb, "badVerb", "Illegal OAI verb")
        identifier = query.get("identifier", "")
        if identifier == "oai:arXiv.org:1412.8544" and query.get("metadataPrefix") == "arXiv":
            return 200, _XML, (self.corpus / "oai/GetRecord_arXiv_1412.8544.xml").read_bytes()
        record = self.oai_records.get(identifier)
        if record is None or query.get("metadataPrefix") != "arXiv":
            return 200, _XML, _oai_error(verb, "idDoesNotExist", f"{identifier} is unknown")
        head = (f'<request verb="GetRecord" identifier="{escape(identifier)}" '
                'metadataPrefix="arXiv">http://export.arxiv.org/oai2</request>\n<GetRecord>\n')
        return 200, _XML, _oai_head().encode() + head.encode() + record + \
            b"\n</GetRecord>\n</OAI-PMH>\n"

    def _pdf(self, raw: str) -> tuple[int, dict[str, str], bytes]:
        if not _ID.match(raw):
            return 404, _HTML, b"<html><body><h1>Not Found</h1></body></html>"
        paper = self._paper(raw)
        if paper is None:
            body = f"<html><head><title>arXiv: article {raw} not found</title></head></html>"
            return 404, _HTML, body.encode()
        return 200, {"Content-Type": "application/pdf"}, paper.path.read_bytes()

    # --- the wire ----------------------------------------------------------------------------

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if path.startswith(fault.prefix) and fault.times != 0:
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    def _record(self, entry: Logged) -> None:
        with self._lock:
            self._log.append(entry)


def _handler_for(standin: ArxivStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            entry = Logged(time.time(), parts.path, query)
            standin._record(entry)
            fault = standin._take_fault(parts.path)
            if fault is not None:
                entry.fault = fault.kind
                if fault.kind == "hang":
                    standin._stopping.wait()
                    return
            status, headers, body = standin.answer(parts.path, query)
            if fault is not None:
                status, headers, body = _FAULTS[fault.kind](standin, fault, status, headers, body)
            entry.status = status
            pace = fault.pace if fault is not None and fault.kind == "trickle" else None
            self._send(status, headers, body, drop=fault is not None and fault.kind == "drop",
                       pace=pace)

        def _send(self, status: int, headers: dict[str, str], body: bytes, *,
                  drop: bool, pace: float | None = None) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if pace is not None:
                self._trickle(body, pace)
                return
            self.wfile.write(body[: len(body) // 2] if drop else body)
            if drop:
                self.close_connection = True

        def _trickle(self, body: bytes, pace: float) -> None:
            """64 bytes every `pace` s until the body is sent, the client goes or we stop."""
            for start in range(0, len(body), 64):
                try:
                    self.wfile.write(body[start:start + 64])
                    self.wfile.flush()
                except OSError:  # the client gave up
                    self.close_connection = True
                    return
                if standin._stopping.wait(pace):
                    self.close_connection = True
                    return

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


# --- faults ---------------------------------------------------------------------------------

Answer = tuple[int, dict[str, str], bytes]


def _rate_limited(standin: ArxivStandIn, fault: Fault, *_: object) -> Answer:
    body = (standin.corpus / "bad/oai_http503_retry_after.html").read_bytes()
    wait = fault.retry_after if fault.retry_after is not None else 10  # 10 s as recorded
    return 503, {**_HTML, "Retry-After": f"{wait:g}"}, body


def _too_many(standin: ArxivStandIn, fault: Fault, *_: object) -> Answer:
    headers = dict(_TEXT)
    if fault.retry_after is not None:
        headers["Retry-After"] = f"{fault.retry_after:g}"
    return 429, headers, b"Rate exceeded.\n"


_FAULTS: dict[str, Any] = {
    "503": _rate_limited,
    "429": _too_many,
    "500": lambda s, f, *a: (500, _HTML, b"<html><body>Internal Server Error</body></html>"),
    "html": lambda s, f, *a: (200, _HTML, b"<!DOCTYPE html>\n<html><head><title>arXiv: "
                              b"PDF unavailable</title></head><body>The PDF is being "
                              b"generated. Please try again later.</body></html>\n"),
    "empty": lambda s, f, status, headers, body: (200, headers, b""),
    "truncated": lambda s, f, status, headers, body: (status, headers, body[: len(body) // 2]),
    "drop": lambda s, f, status, headers, body: (status, headers, body),
    "hang": None,
    "trickle": lambda s, f, status, headers, body: (status, headers, body),
    "malformed": lambda s, f, status, headers, body: (status, headers,
                                                      body[: body.rfind(b"</", 0, len(body) // 2)
                                                           + 3 or len(body) // 2]),
}

# --- formats (as in the recordings) -------------------------------------------------------------

_ATOM = {"Content-Type": "application/atom+xml; charset=UTF-8"}
_RSS = {"Content-Type": "application/rss+xml; charset=UTF-8"}
_XML = {"Content-Type": "text/xml; charset=UTF-8"}
_HTML = {"Content-Type": "text/html; charset=UTF-8"}
_TEXT = {"Content-Type": "text/plain"}
_OAI_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" \
xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ \
http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">
<responseDate>{now}</responseDate>
"""


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _oai_head() -> str:
    return _OAI_HEAD.replace("{now}", _now())


def _feed(query: dict[str, str], entries: list[bytes]) -> bytes:
    asked = "&amp;".join(f"{k}={escape(query.get(k, ''))}" for k in
                         ("search_query", "id_list", "start", "max_results"))
    head = f"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" \
xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/standin</id>
  <title>arXiv Query: {asked}</title>
  <updated>{_now()}</updated>
  <opensearch:itemsPerPage>{escape(query.get('max_results', '10'))}</opensearch:itemsPerPage>
  <opensearch:totalResults>{len(entries)}</opensearch:totalResults>
  <opensearch:startIndex>{escape(query.get('start', '0'))}</opensearch:startIndex>
"""
    return head.encode() + b"".join(b"  " + e.strip() + b"\n" for e in entries) + b"</feed>\n"


def _entry_xml(paper: Paper) -> bytes:
    """An API entry built from the paper's first page (see the module docstring)."""
    full = f"{paper.arxiv_id}v{paper.version}"
    date = (paper.date or datetime(2000, 1, 1, tzinfo=UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    cat = f'    <category term={quoteattr(paper.category)} ' \
          'scheme="http://arxiv.org/schemas/atom"/>\n' if paper.category else ""
    primary = f"    <arxiv:primary_category term={quoteattr(paper.category)}/>\n" \
        if paper.category else ""
    authors = "".join(f"    <author>\n      <name>{escape(a)}</name>\n    </author>\n"
                      for a in paper.authors)
    return f"""<entry xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
    <id>http://arxiv.org/abs/{full}</id>
    <title>{escape(paper.title)}</title>
    <updated>{date}</updated>
    <link href="https://arxiv.org/abs/{full}" rel="alternate" type="text/html"/>
    <link href="https://arxiv.org/pdf/{full}" rel="related" type="application/pdf" title="pdf"/>
    <summary>{escape(paper.abstract)}</summary>
{cat}    <published>{date}</published>
{primary}{authors}  </entry>""".encode()


def _item_xml(paper: Paper, announce_type: str, licence: str | None) -> str:
    """An RSS item in the recorded rss.arxiv.org format, built from the first page."""
    full = f"{paper.arxiv_id}v{paper.version}"
    rights = f"      <dc:rights>{escape(licence)}</dc:rights>\n" if licence else ""
    cat = f"      <category>{escape(paper.category)}</category>\n" if paper.category else ""
    return f"""    <item>
      <title>{escape(paper.title)}</title>
      <link>https://arxiv.org/abs/{paper.arxiv_id}</link>
      <description>arXiv:{full} Announce Type: {announce_type}{" "}
Abstract: {escape(paper.abstract)}</description>
      <guid isPermaLink="false">oai:arXiv.org:{full}</guid>
{cat}      <pubDate>{format_datetime(datetime.now(UTC))}</pubDate>
      <arxiv:announce_type>{announce_type}</arxiv:announce_type>
{rights}      <dc:creator>{escape(', '.join(paper.authors))}</dc:creator>
    </item>
"""


def _channel(categories: str, items: list[str]) -> bytes:
    today = format_datetime(datetime.now(UTC))
    return f"""<rss xmlns:arxiv="http://arxiv.org/schemas/atom" \
xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/" \
version="2.0">
  <channel>
    <title>{escape(categories)} updates on arXiv.org</title>
    <link>http://rss.arxiv.org/rss/{escape(categories)}</link>
    <description>{escape(categories)} updates on the arXiv.org e-print archive.</description>
    <atom:link href="http://rss.arxiv.org/rss/{escape(categories)}" rel="self" \
type="application/rss+xml" />
    <docs>http://www.rssboard.org/rss-specification</docs>
    <language>en-us</language>
    <lastBuildDate>{today}</lastBuildDate>
    <managingEditor>rss-help@arxiv.org</managingEditor>
    <pubDate>{today}</pubDate>
    <skipDays>
      <day>Saturday</day>
      <day>Sunday</day>
    </skipDays>
{''.join(items)}    </channel>
</rss>""".encode()


def _oai_error(verb: str, code: str, text: str) -> bytes:
    return (_oai_head() + f'<request verb="{escape(verb)}">http://export.arxiv.org/oai2</request>\n'
            f'<error code="{code}">{escape(text)}</error>\n</OAI-PMH>\n').encode()


def main() -> None:
    """Run the stand-in on its own: `python -m tests.support.arxiv_standin --port 8999`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--listing", action="append", default=[],
                        help="CAT=ID,ID... served as today's RSS listing of CAT")
    args = parser.parse_args()
    standin = ArxivStandIn(port=args.port).start()
    for spec in args.listing:
        category, _, ids = spec.partition("=")
        standin.listing(category, [i for i in ids.split(",") if i])
    print(standin.base_url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        standin.stop()


if __name__ == "__main__":
    main()
