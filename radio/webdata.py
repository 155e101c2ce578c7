"""What the web page shows, read from the store and the data root (read-only).

Every function here only reads: the page never changes the station's state, except the
operator's schedule actions in radio/web.py, which go through radio.shows.schedule as
the CLI's do. Text that comes from papers (titles, authors, hooks, lines) is returned as
plain text; the templates escape it (jinja2 autoescape) and the page's script only ever
sets it with `textContent`.
"""

from __future__ import annotations

import html
import json
import logging
import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from radio.artifacts import DataRoot, InvalidId, parse_arxiv_id, safe_show_id
from radio.messages import OnAirNow
from radio.store import Store

log = logging.getLogger(__name__)

ARXIV_ABS = "https://arxiv.org/abs/"
_PAGE_IMAGE = re.compile(r"^papers/(?P<id>.+)/pages/(?P<n>\d{1,4})\.png$")
_CARD_IMAGE = re.compile(r"^papers/(?P<id>.+)/title_card\.png$")
_OWN_CARD = re.compile(r"^onair/cards/(?P<name>[A-Za-z0-9._-]+)\.png$")
_VTT_CUE = re.compile(r"^(?P<start>[\d:.]+) --> (?P<end>[\d:.]+)")
_VOICE = re.compile(r"^<v (?P<speaker>[^>]*)>(?P<text>.*?)(?:</v>)?$")


def _base_id(arxiv_id: str | None) -> str | None:
    """The id without its version, or None when it is no valid arXiv id."""
    try:
        return parse_arxiv_id(arxiv_id)[0] if arxiv_id else None
    except InvalidId:
        return None


def arxiv_url(arxiv_id: str | None) -> str | None:
    base = _base_id(arxiv_id)
    return ARXIV_ABS + base if base else None


def paper_url(arxiv_id: str | None) -> str | None:
    base = _base_id(arxiv_id)
    return f"/papers/{base}" if base else None


# --- images -------------------------------------------------------------------------------


def pages_allowed(licence_url: str | None) -> bool:
    from radio.playout.visuals import pages_allowed as allowed

    return allowed(licence_url)


def image_url(store: Store, image: str | None, paper_id: str | None) -> str | None:
    """The page's URL for an on-air image path (page image, title card or own card)."""
    if not image:
        return None
    match = _PAGE_IMAGE.match(image)
    if match:
        try:
            base, _ = parse_arxiv_id(match.group("id"))
        except InvalidId:
            return None
        return f"/papers/{base}/pages/{int(match.group('n'))}.png"
    match = _CARD_IMAGE.match(image)
    if match:
        try:
            base, _ = parse_arxiv_id(match.group("id"))
        except InvalidId:
            return None
        return f"/papers/{base}/card.png"
    if _OWN_CARD.match(image) and paper_id:
        url = paper_url(paper_id)
        return f"{url}/card.png" if url else None
    return None


def card_path(data: DataRoot, arxiv_id: str) -> Path | None:
    """The paper's title card: the pdf worker's, else the playout's own."""
    try:
        folder = data.paper_dir(arxiv_id)
        base, _ = parse_arxiv_id(arxiv_id)
    except InvalidId:
        return None
    for path in (folder / "title_card.png",
                 data.root / "onair" / "cards" / (base.replace("/", "_") + ".png")):
        resolved = path.resolve()
        if resolved.is_relative_to(data.root) and resolved.is_file():
            return resolved
    return None


def page_path(store: Store, data: DataRoot, arxiv_id: str, page: int,
              licensed_only: bool = True) -> Path | None:
    """A page image, only where the paper's licence allows redistribution."""
    try:
        folder = data.paper_dir(arxiv_id)
        base, _ = parse_arxiv_id(arxiv_id)
    except InvalidId:
        return None
    row = store.paper(base)
    if row is None or (licensed_only and not pages_allowed(row["licence_url"])):
        return None
    path = (folder / "pages" / f"{page:03d}.png").resolve()
    return path if path.is_relative_to(data.root) and path.is_file() else None


# --- on air -------------------------------------------------------------------------------


def script_lines(data: DataRoot, show_id: str) -> list[dict[str, Any]]:
    """The dialogue lines of a written show (speaker, text, paper_id), [] if unreadable."""
    try:
        path = data.show_dir(show_id) / "script.json"
        script = json.loads(path.read_text())
        blocks = script.get("blocks", script.get("segments", []))  # older: "segments"
        return [line for block in blocks
                for line in block.get("lines", []) if isinstance(line, dict)]
    except (InvalidId, OSError, ValueError, AttributeError):
        return []


_lines_cache: dict[tuple[str, float], list[dict[str, Any]]] = {}
_lines_lock = threading.Lock()


def _cached_lines(data: DataRoot, show_id: str) -> list[dict[str, Any]]:
    try:
        mtime = (data.show_dir(show_id) / "script.json").stat().st_mtime
    except (InvalidId, OSError):
        return []
    key = (show_id, mtime)
    with _lines_lock:
        if key not in _lines_cache:
            if len(_lines_cache) > 16:
                _lines_cache.clear()
            _lines_cache[key] = script_lines(data, show_id)
        return _lines_cache[key]


def titles_of(store: Store, ids: list[str]) -> dict[str, str]:
    ids = [i for i in ids if i]
    if not ids:
        return {}
    return store.paper_titles(ids)


def onair_view(store: Store, data: DataRoot, now: OnAirNow | None,
               coming: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What the now-playing panel shows, as JSON-able plain text and checked URLs."""
    if now is None:
        return {"mode": "unknown", "show": None, "speaker": None, "text": "", "paper": None,
                "image_url": None, "progress": None, "next": _next(None, coming)}
    paper = None
    if now.paper_id:
        paper = {"id": now.paper_id, "title": now.title or now.paper_id,
                 "authors": ", ".join(now.authors[:8]) + (" et al." if len(now.authors) > 8
                                                          else ""),
                 "arxiv_url": arxiv_url(now.paper_id), "url": paper_url(now.paper_id)}
    progress = None
    next_paper = None
    if now.show_id and now.seq is not None:
        lines = _cached_lines(data, now.show_id)
        if not lines:
            total = store.count_segments(now.show_id)
        else:
            total = len(lines)
            for line in lines[now.seq + 1:]:
                pid = line.get("paper_id")
                if pid and pid != now.paper_id:
                    next_paper = pid
                    break
        if total:
            progress = {"line": min(now.seq + 1, total), "of": total}
    if next_paper:
        next_paper = {"id": next_paper, "title": titles_of(store, [next_paper]).get(
            next_paper, next_paper), "url": paper_url(next_paper)}
    show = now.show_title or now.show_id
    if now.mode == "ident":
        show = show or "Station ident"
    elif now.mode in ("fallback", "idle") and not show:
        show = "Between shows"
    return {
        "mode": now.mode, "show": show, "speaker": now.speaker, "text": now.text,
        "paper": paper, "image_url": image_url(store, now.image, now.paper_id),
        "progress": progress, "started_at": now.started_at.isoformat(),
        "duration_s": now.duration_s, "next": _next(next_paper, coming),
    }


def _next(next_paper: dict | None, coming: list[dict[str, Any]] | None) -> dict[str, Any]:
    show = coming[0] if coming else None
    return {"paper": next_paper,
            "show": {"title": show["title"], "at": show["at"]} if show else None}


# --- schedule -----------------------------------------------------------------------------

KIND_TITLES = {"daily": "Daily papers", "weekly": "Weekly themes", "latest": "Latest papers",
               "deep_dive": "Deep dive"}


def schedule_entries(store: Store) -> list[Any]:
    from radio.shows import schedule as sched

    return sched.load_entries(store)


def coming_shows(store: Store, limit: int = 8) -> list[dict[str, Any]]:
    """Scheduled shows that are not paused, soonest first, with UTC times (ISO)."""
    entries = [e for e in schedule_entries(store) if e.next_run is not None]
    entries.sort(key=lambda e: e.next_run)
    return [{"id": e.id, "kind": e.kind, "title": KIND_TITLES.get(e.kind, e.kind),
             "at": e.next_run.astimezone(UTC).isoformat(),
             "at_text": f"{e.next_run.astimezone(UTC):%a %d %b %H:%M} UTC",
             "minutes": e.length_s // 60} for e in entries[:limit]]


# --- episodes -----------------------------------------------------------------------------


@dataclass
class TranscriptCue:
    """A cue of an episode's WebVTT transcript, read back for the web page."""

    start: float
    speaker: str
    text: str


def _seconds(stamp: str) -> float:
    parts = [float(p) for p in stamp.split(":")]
    value = 0.0
    for part in parts:
        value = value * 60 + part
    return value


def read_transcript(path: Path, limit: int = 2000) -> list[TranscriptCue]:
    """Cues of a WebVTT transcript as plain text (entities decoded; escaped again on output)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return []
    cues: list[TranscriptCue] = []
    start: float | None = None
    for raw in text.splitlines():
        line = raw.strip()
        match = _VTT_CUE.match(line)
        if match:
            start = _seconds(match.group("start"))
            continue
        if start is None or not line:
            if not line:
                start = None
            continue
        voice = _VOICE.match(line)
        speaker, body = (voice.group("speaker"), voice.group("text")) if voice else ("", line)
        text = html.unescape(re.sub(r"<[^>]*>", "", body))
        cues.append(TranscriptCue(start, html.unescape(speaker), text))
        start = None
        if len(cues) >= limit:
            break
    return cues


def read_chapters(path: Path) -> list[dict[str, Any]]:
    try:
        chapters = json.loads(path.read_text())["chapters"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    out = []
    for chapter in chapters:
        try:
            start = float(chapter["startTime"])
        except (KeyError, TypeError, ValueError):
            continue
        url = chapter.get("url")
        out.append({"start": start, "clock": clock(start), "title": str(chapter.get("title", "")),
                    "url": url if isinstance(url, str) and url.startswith(ARXIV_ABS) else None})
    return out


def clock(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def episodes(store: Store, data: DataRoot, limit: int = 10) -> list[dict[str, Any]]:
    from radio import feed
    from radio.episodes.episode import EpisodePaths

    rows = store.episodes(limit)
    out = []
    for row in rows:
        try:
            paths = EpisodePaths.of(data, row["show_id"])
        except InvalidId:
            continue
        published = datetime.fromisoformat(row["published_at"])
        if published.tzinfo is None:
            published = published.replace(tzinfo=UTC)
        out.append({
            "show_id": row["show_id"], "title": row["title"],
            "published": published.strftime("%Y-%m-%d %H:%M"),
            "published_iso": published.isoformat(),
            "duration": feed.format_duration(row["duration_s"]),
            "mp3": f"/episodes/{paths.mp3.name}",
            "transcript": f"/episodes/{paths.transcript.name}",
            "chapters_url": f"/episodes/{paths.chapters.name}",
            "chapters": read_chapters(paths.chapters),
            "cues": read_transcript(paths.transcript),
        })
    return out


# --- papers -------------------------------------------------------------------------------

STAGE_ORDER = ("fetch", "pdf", "summary", "embed")
STAGE_WORDS = {"fetch": "fetched", "pdf": "read", "summary": "summarized", "embed": "indexed"}


@dataclass
class PaperRow:
    arxiv_id: str
    title: str
    authors: list[str]
    hook: str
    published: str
    state: str  # aired, queued, failed, in progress, ...
    state_detail: str = ""
    url: str = ""
    arxiv_url: str = ""
    categories: list[str] = field(default_factory=list)

    @property
    def authors_text(self) -> str:
        names = self.authors[:6]
        return ", ".join(names) + (" et al." if len(self.authors) > 6 else "")


def _loads(text: str | None, default: Any) -> Any:
    try:
        return json.loads(text) if text else default
    except ValueError:
        return default


def _states(store: Store, ids: list[str]) -> dict[str, tuple[str, str]]:
    """arXiv id -> (state, detail): aired, queued (in a show not aired yet), failed, ..."""
    if not ids:
        return {}
    aired = store.last_aired(ids)
    queued = store.queued_show_titles(ids)
    stages: dict[str, dict[str, tuple[str, str]]] = defaultdict(dict)
    for row in store.all_stages(ids):
        stages[row["arxiv_id"]][row["stage"]] = (row["status"], row["detail"] or "")
    out = {}
    for arxiv_id in ids:
        paper_stages = stages.get(arxiv_id, {})
        failed = [(s, d) for s, (st, d) in paper_stages.items() if st == "failed"]
        if arxiv_id in aired:
            out[arxiv_id] = ("aired", f"on air {str(aired[arxiv_id])[:16].replace('T', ' ')}"
                             " UTC")
        elif failed:
            stage, detail = failed[0]
            out[arxiv_id] = ("failed", f"{stage}: {detail}"[:300])
        elif arxiv_id in queued:
            out[arxiv_id] = ("queued", f"in {queued[arxiv_id]}" if queued[arxiv_id] else "")
        else:
            done = [s for s in STAGE_ORDER if paper_stages.get(s, ("",))[0] == "done"]
            if "no_text" in {st for st, _ in paper_stages.values()}:
                out[arxiv_id] = ("no text", "the PDF has no text layer")
            elif done:
                out[arxiv_id] = ("ready" if done[-1] == "embed" else "in progress",
                                 STAGE_WORDS[done[-1]])
            else:
                out[arxiv_id] = ("new", "")
    return out


def _rows(store: Store, rows: list[Any]) -> list[PaperRow]:
    ids = [r["arxiv_id"] for r in rows]
    hooks = {}
    if ids:
        for r in store.summaries(ids):
            hook = (_loads(r["data"], {}).get("summary") or {})
            hook = hook.get("hook") if isinstance(hook, dict) else None
            if hook:
                hooks[r["arxiv_id"]] = str(hook)
    states = _states(store, ids)
    out = []
    for r in rows:
        state, detail = states.get(r["arxiv_id"], ("new", ""))
        out.append(PaperRow(
            arxiv_id=r["arxiv_id"], title=r["title"], authors=_loads(r["authors"], []),
            hook=hooks.get(r["arxiv_id"], ""), published=(r["published"] or "")[:10],
            state=state, state_detail=detail, url=paper_url(r["arxiv_id"]) or "",
            arxiv_url=arxiv_url(r["arxiv_id"]) or "", categories=_loads(r["categories"], [])))
    return out




def recent_papers(store: Store, limit: int = 30) -> list[PaperRow]:
    rows = store.recent_papers(limit)
    return _rows(store, rows)


def papers_by_id(store: Store, ids: list[str]) -> list[PaperRow]:
    if not ids:
        return []
    found = {r["arxiv_id"]: r for r in store.papers(ids)}
    return _rows(store, [found[i] for i in ids if i in found])


def text_search(store: Store, query: str, limit: int = 20) -> list[PaperRow]:
    """Words in title, abstract or authors (every word must appear): the fallback search."""
    words = [w for w in re.split(r"\s+", query.strip().lower()) if w][:8]
    if not words:
        return []
    rows = store.search_papers(words, limit)
    return _rows(store, rows)


def paper_detail(store: Store, data: DataRoot, arxiv_id: str) -> dict[str, Any] | None:
    try:
        base, _ = parse_arxiv_id(arxiv_id)
    except InvalidId:
        return None
    row = store.paper(base)
    if row is None:
        return None
    [paper] = _rows(store, [row])
    summary = store.summary(base)
    short = ""
    points: list[str] = []
    if summary:
        data_json = _loads(summary[0], {}).get("summary", {}) or {}
        short = str(data_json.get("short") or "")
        points = [str(p) for p in (data_json.get("key_points") or []) if p][:8]
    shows = [dict(r) for r in store.shows_of_paper(base, 10)]
    failures = [{k: r[k] for k in ("worker", "reason", "at")}
                for r in store.failures(paper=base, limit=5)]
    return {"paper": paper, "abstract": row["abstract"], "short": short, "points": points,
            "licence": row["licence_url"], "shows": shows, "failures": failures,
            "card": card_path(data, base) is not None}


# --- the embeddings index -------------------------------------------------------------------


def related(store: Store, data: DataRoot, arxiv_id: str, k: int = 5) -> list[PaperRow]:
    """Nearest papers in the saved index (no model needed); [] without an index."""
    from radio.understanding.index import IDS_FILE, PaperIndex

    directory = data.index_dir
    try:
        meta = json.loads((directory / IDS_FILE).read_text())
        index = PaperIndex.load(directory, int(meta["dim"]))
        if arxiv_id not in index:
            return []
        hits = index.related(arxiv_id, k)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        log.debug("no related papers for %s: %s", arxiv_id, exc)
        return []
    return papers_by_id(store, [h.arxiv_id for h in hits])


class Searcher:
    """Search by meaning through the embeddings index when the model and index are there;
    else (or when it fails) by words. The model is loaded once, on the first search."""

    def __init__(self, settings: Any, store: Store, data: DataRoot, semantic: bool = True):
        self.settings, self.store, self.data = settings, store, data
        self.semantic = semantic
        self._library: Any = None
        self._failed: str | None = None
        self._mtime: float | None = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        from radio.backends.embedder import load_embedder
        from radio.understanding.index import INDEX_FILE, Library

        if not (self.data.index_dir / INDEX_FILE).is_file():
            return None  # nothing embedded yet: do not load a model for nothing
        with self._lock:
            if self._library is None and self._failed is None:
                try:
                    self._library = Library(self.store, load_embedder(self.settings.embedder),
                                            self.data.index_dir)
                except Exception as exc:  # no model here: the word search still answers
                    self._failed = str(exc)
                    log.warning("search by meaning off (%s); searching words", exc)
            return self._library

    def _refresh(self, library: Any) -> None:
        """Load the index again when the embeddings worker has saved a newer one."""
        from radio.understanding.index import INDEX_FILE

        mtime = (self.data.index_dir / INDEX_FILE).stat().st_mtime
        if mtime != self._mtime:
            library.index = library.index.load(self.data.index_dir, library.index.dim,
                                               library.index.model)
            self._mtime = mtime

    def search(self, query: str, limit: int = 20) -> tuple[list[PaperRow], str]:
        """Papers for a query, and how they were found ("meaning" or "words")."""
        query = query.strip()[:200]
        if not query:
            return [], "words"
        if self.semantic:
            try:
                library = self._load()
                if library is not None:
                    self._refresh(library)
                    hits = library.search(query, limit)
                    found = papers_by_id(self.store, [h.arxiv_id for h in hits])
                    if found:
                        return found, "meaning"
            except Exception as exc:
                log.warning("search by meaning failed (%s); searching words", exc)
        return text_search(self.store, query, limit), "words"


# --- the operator's view ------------------------------------------------------------------


def operator_view(store: Store, statuses: dict[str, dict[str, Any]]) -> dict[str, Any]:
    from radio.shows.records import pending_seconds

    failures = [{k: r[k] for k in ("worker", "topic", "key", "reason", "at")}
                for r in store.failures(limit=15)]
    workers = sorted(statuses.values(), key=lambda s: (s.get("worker", ""),
                                                       s.get("instance", "")))
    playout = next((s for s in workers if s.get("worker") == "playout"), None)
    obs = next((s for s in workers if s.get("worker") == "obs"), None)
    outputs = (playout or {}).get("detail", {}).get("outputs", {}) if playout else {}
    try:
        ahead = pending_seconds(store)
    except Exception:
        ahead = 0.0
    queued = float((playout or {}).get("detail", {}).get("queued_s", 0) or 0)
    return {"workers": workers, "failures": failures,
            "ahead_min": round(max(ahead, queued) / 60, 1),
            "outputs": outputs, "obs": obs, "entries": schedule_entries(store)}


def safe_show(show_id: str) -> str | None:
    try:
        return safe_show_id(show_id)
    except InvalidId:
        return None
