"""The podcast feed: RSS 2.0 for Apple Podcasts, with the Podcasting 2.0 namespace.

feedgen writes RSS and, through its `podcast` extension, the itunes tags. The
Podcasting 2.0 tags (`podcast:guid`, `podcast:person`, `podcast:transcript`,
`podcast:chapters`, and `podcast:txt` for the AI-content disclosure) come from
`Podcast20Extension` below, registered with feedgen like any extension. The feed is
rebuilt from the `episodes` table after every change and written atomically to
`feed/podcast.xml`; the retention policy deletes old episodes before a rebuild.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.feed import FeedGenerator
from feedgen.util import xml_elem

from radio.artifacts import DataRoot, write_atomic
from radio.config import Settings
from radio.episodes.chapters import read_chapters_json
from radio.episodes.episode import AI_DISCLOSURE, EpisodePaths, cover_path
from radio.store import Store

log = logging.getLogger(__name__)

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PSC_NS = "http://podlove.org/simple-chapters"  # inline chapters, read by gPodder and others
# podcast:guid is a UUIDv5 of the feed URL (no scheme) in this namespace (the spec's).
PODCAST_GUID_NS = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")
FEED_FILE = "podcast.xml"


# --- the Podcasting 2.0 extension for feedgen ---------------------------------------------


@dataclass(frozen=True)
class Person:
    name: str
    role: str = "host"
    group: str = "cast"


def _add_person(parent: Any, person: Person) -> None:
    node = xml_elem(f"{{{PODCAST_NS}}}person", parent)
    node.attrib.update({"role": person.role, "group": person.group})
    node.text = person.name


def _add_explicit(parent: Any, explicit: bool | None) -> None:
    # feedgen 1.0 writes only the retired yes/no/clean; Apple's spec now says true/false.
    if explicit is not None:
        xml_elem(f"{{{ITUNES_NS}}}explicit", parent).text = "true" if explicit else "false"


class Podcast20Extension(BaseExtension):
    """Channel tags: podcast:guid, podcast:medium, podcast:person, podcast:txt."""

    def __init__(self) -> None:
        self.guid: str | None = None
        self.persons: list[Person] = []
        self.disclosure: str | None = None
        self.explicit: bool | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS, "itunes": ITUNES_NS}

    def extend_rss(self, rss_feed: Any) -> Any:
        channel = rss_feed[0]
        if self.guid:
            xml_elem(f"{{{PODCAST_NS}}}guid", channel).text = self.guid
        xml_elem(f"{{{PODCAST_NS}}}medium", channel).text = "podcast"
        for person in self.persons:
            _add_person(channel, person)
        if self.disclosure:
            txt = xml_elem(f"{{{PODCAST_NS}}}txt", channel)
            txt.attrib["purpose"] = "ai-disclosure"
            txt.text = self.disclosure
        _add_explicit(channel, self.explicit)
        return rss_feed


class Podcast20EntryExtension(BaseEntryExtension):
    """Item tags: podcast:transcript, podcast:chapters, podcast:person (and psc:chapters)."""

    def __init__(self) -> None:
        self.transcript: tuple[str, str, str] | None = None  # url, type, language
        self.chapters: str | None = None
        self.inline_chapters: list[dict] = []  # the chapters JSON's entries
        self.persons: list[Person] = []
        self.explicit: bool | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS, "itunes": ITUNES_NS, "psc": PSC_NS}

    def _add_psc(self, entry: Any) -> None:
        chapters = xml_elem(f"{{{PSC_NS}}}chapters", entry)
        chapters.attrib["version"] = "1.2"
        for chapter in self.inline_chapters:
            node = xml_elem(f"{{{PSC_NS}}}chapter", chapters)
            node.attrib.update({"start": format_duration(chapter["startTime"], millis=True),
                                "title": str(chapter["title"])})
            if chapter.get("url"):
                node.attrib["href"] = str(chapter["url"])

    def extend_rss(self, entry: Any) -> Any:
        if self.transcript:
            url, kind, language = self.transcript
            node = xml_elem(f"{{{PODCAST_NS}}}transcript", entry)
            node.attrib.update({"url": url, "type": kind, "language": language,
                                "rel": "captions"})
        if self.chapters:
            node = xml_elem(f"{{{PODCAST_NS}}}chapters", entry)
            node.attrib.update({"url": self.chapters, "type": "application/json+chapters"})
        if self.inline_chapters:
            self._add_psc(entry)
        for person in self.persons:
            _add_person(entry, person)
        _add_explicit(entry, self.explicit)
        return entry


# --- addresses ----------------------------------------------------------------------------


def base_url(settings: Settings) -> str:
    return (settings.feed.public_url or f"http://{settings.http_bind}").rstrip("/")


def feed_url(settings: Settings) -> str:
    return f"{base_url(settings)}/{FEED_FILE}"


def episode_url(settings: Settings, path: Path) -> str:
    return f"{base_url(settings)}/episodes/{path.name}"


def podcast_guid(settings: Settings) -> str:
    """The show's Podcasting 2.0 guid, stable for its feed URL."""
    address = feed_url(settings).split("://", 1)[-1].rstrip("/")
    return str(uuid.uuid5(PODCAST_GUID_NS, address))


def format_duration(seconds: float, *, millis: bool = False) -> str:
    """HH:MM:SS (itunes:duration), or HH:MM:SS.mmm (chapter starts)."""
    total = round(seconds * 1000) if millis else round(seconds) * 1000
    secs, ms = divmod(total, 1000)
    text = f"{secs // 3600:02d}:{secs % 3600 // 60:02d}:{secs % 60:02d}"
    return f"{text}.{ms:03d}" if millis else text


# --- building -----------------------------------------------------------------------------


def _channel(settings: Settings, data: DataRoot) -> FeedGenerator:
    feed = settings.feed
    cover_path(data, settings)
    fg = FeedGenerator()
    fg.load_extension("podcast")
    fg.register_extension("podcast20", Podcast20Extension, Podcast20EntryExtension)
    fg.title(feed.title)
    fg.description(f"{feed.description} {AI_DISCLOSURE}")
    fg.link(href=feed_url(settings), rel="self")  # before `alternate`: that one is <link>
    fg.link(href=base_url(settings), rel="alternate")
    fg.language(feed.language)
    fg.author(name=feed.author)
    fg.generator("Paper Radio")
    cover = f"{base_url(settings)}/cover.png"
    fg.image(url=cover, title=feed.title, link=base_url(settings))
    fg.podcast.itunes_image(cover)
    fg.podcast.itunes_author(feed.author)
    fg.podcast.itunes_category(feed.category, feed.subcategory)
    fg.podcast.itunes_type("episodic")
    fg.podcast.itunes_summary(feed.description)
    if feed.owner_email:
        fg.podcast.itunes_owner(name=feed.author, email=feed.owner_email)
    fg.podcast20.guid = podcast_guid(settings)
    fg.podcast20.persons = _hosts(settings)
    fg.podcast20.disclosure = AI_DISCLOSURE
    fg.podcast20.explicit = feed.explicit
    return fg


def _hosts(settings: Settings) -> list[Person]:
    return [Person(host.name) for host in settings.writer.hosts]


def _description(chapters: list[dict]) -> str:
    papers = "; ".join(str(c.get("title", "")) for c in chapters)
    body = f"Papers in this episode: {papers}." if papers else "Papers from arXiv."
    return f"{body} {AI_DISCLOSURE}"


def _add_item(fg: FeedGenerator, settings: Settings, data: DataRoot, row: Any) -> None:
    paths = EpisodePaths.of(data, row["show_id"])
    entry = fg.add_entry(order="append")
    entry.title(row["title"])
    entry.guid(str(uuid.uuid5(uuid.UUID(podcast_guid(settings)), row["show_id"])),
               permalink=False)
    entry.pubDate(datetime.fromisoformat(row["published_at"]))
    chapters = read_chapters_json(paths.chapters)
    entry.description(_description(chapters))
    entry.link(href=f"{base_url(settings)}/#{row['show_id']}")
    entry.enclosure(episode_url(settings, paths.mp3), str(row["bytes"]), "audio/mpeg")
    entry.podcast.itunes_duration(format_duration(row["duration_s"]))
    entry.podcast.itunes_episode_type("full")
    entry.podcast20.transcript = (episode_url(settings, paths.transcript), "text/vtt",
                                  settings.feed.language)
    entry.podcast20.chapters = episode_url(settings, paths.chapters)
    entry.podcast20.inline_chapters = chapters
    entry.podcast20.persons = _hosts(settings)
    entry.podcast20.explicit = settings.feed.explicit


def render_feed(store: Store, data: DataRoot, settings: Settings) -> bytes:
    fg = _channel(settings, data)
    for row in store.episodes():
        _add_item(fg, settings, data, row)
    return fg.rss_str(pretty=True)


def build_feed(store: Store, data: DataRoot, settings: Settings) -> Path:
    """Write `feed/podcast.xml` from the episodes table (atomically)."""
    target = data.feed_dir / FEED_FILE
    write_atomic(target, render_feed(store, data, settings))
    return target


# --- retention ----------------------------------------------------------------------------


def expired_episodes(store: Store, settings: Settings, now: datetime | None = None,
                     ) -> list[str]:
    """Show ids past the policy: beyond the newest `keep_episodes`, or older than `keep_days`."""
    now = now or datetime.now(UTC)
    cutoff = now - timedelta(days=settings.feed.keep_days)
    rows = store.episodes()
    return [r["show_id"] for index, r in enumerate(rows)
            if index >= settings.feed.keep_episodes
            or datetime.fromisoformat(r["published_at"]) < cutoff]


def apply_retention(store: Store, data: DataRoot, settings: Settings,
                    now: datetime | None = None) -> list[str]:
    """Delete expired episodes: rows first, then the feed, then the files it no longer names."""
    expired = expired_episodes(store, settings, now)
    for show_id in expired:
        store.delete_episode(show_id)
    build_feed(store, data, settings)
    for show_id in expired:
        for path in EpisodePaths.of(data, show_id).all():
            path.unlink(missing_ok=True)
        log.info("episode %s deleted by the retention policy", show_id)
    return expired
