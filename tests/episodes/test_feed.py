"""The podcast feed, read by gPodder's podcastparser and by feedparser, and its retention."""

from __future__ import annotations

import io
import shutil
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import podcastparser
import pytest
from PIL import Image

from radio import feed
from radio.config import Settings
from radio.episodes.episode import EpisodePaths
from radio.worker import Context
from tests.support.episodes import SHOW_ID, SHOW_TITLE, Recorded, insert_episode

NS = {"itunes": feed.ITUNES_NS, "podcast": feed.PODCAST_NS, "psc": feed.PSC_NS}
PUBLIC = "https://radio.example.org"


@pytest.fixture(scope="session")
def feed_xml(recorded: Recorded) -> bytes:
    insert_episode(recorded.ctx, recorded.episode, "2026-04-30T06:00:00+00:00")
    settings = recorded.settings.model_copy(
        update={"feed": recorded.settings.feed.model_copy(update={"public_url": PUBLIC + "/"})})
    return feed.build_feed(recorded.ctx.store, recorded.ctx.data, settings).read_bytes()


def test_podcastparser_reads_the_episode(feed_xml: bytes, recorded: Recorded) -> None:
    parsed = podcastparser.parse(f"{PUBLIC}/podcast.xml", io.BytesIO(feed_xml))
    assert parsed["title"] == "Paper Radio"
    assert parsed["cover_url"] == f"{PUBLIC}/cover.png"
    assert parsed["explicit"] is False
    [episode] = parsed["episodes"]
    assert episode["title"] == SHOW_TITLE
    assert episode["total_time"] == round(recorded.episode.duration_s)
    [enclosure] = episode["enclosures"]
    assert enclosure == {"url": f"{PUBLIC}/episodes/{SHOW_ID}.mp3", "mime_type": "audio/mpeg",
                         "file_size": recorded.episode.paths.mp3.stat().st_size}
    titles = [c["title"] for c in episode["chapters"]]  # psc:chapters, inline
    assert titles == [p.title for p in recorded.papers]


def test_feedparser_reads_enclosure_duration_and_podcasting20(feed_xml: bytes,
                                                              recorded: Recorded) -> None:
    parsed = feedparser.parse(feed_xml)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.feed.language == "en"
    [entry] = parsed.entries
    [enclosure] = entry.enclosures
    assert enclosure.href == f"{PUBLIC}/episodes/{SHOW_ID}.mp3"
    assert int(enclosure.length) == recorded.episode.paths.mp3.stat().st_size
    assert enclosure.type == "audio/mpeg"
    assert entry.itunes_duration == feed.format_duration(recorded.episode.duration_s)
    assert entry.podcast_chapters["url"] == f"{PUBLIC}/episodes/{SHOW_ID}.chapters.json"
    assert entry.podcast_transcript["url"] == f"{PUBLIC}/episodes/{SHOW_ID}.vtt"
    assert entry.podcast_transcript["type"] == "text/vtt"
    assert entry.published_parsed[:4] == (2026, 4, 30, 6)


def test_apple_and_podcasting20_tags_are_present(feed_xml: bytes) -> None:
    channel = ET.fromstring(feed_xml).find("channel")
    for tag in ("title", "description", "language", "link", "itunes:explicit",
                "podcast:guid", "podcast:txt"):
        assert (channel.findtext(tag, namespaces=NS) or "").strip(), tag
    assert channel.find("itunes:image", NS).get("href") == f"{PUBLIC}/cover.png"
    assert channel.find("itunes:category", NS).get("text") == "Technology"
    assert channel.findtext("itunes:explicit", namespaces=NS) == "false"
    expected_guid = uuid.uuid5(feed.PODCAST_GUID_NS, "radio.example.org/podcast.xml")
    assert channel.findtext("podcast:guid", namespaces=NS) == str(expected_guid)
    hosts = [p.text for p in channel.findall("podcast:person", NS)]
    assert hosts == ["Alex", "Mira"]
    assert "AI" in channel.findtext("podcast:txt", namespaces=NS)
    item = channel.find("item")
    for tag in ("title", "guid", "pubDate", "itunes:duration"):
        assert (item.findtext(tag, namespaces=NS) or "").strip(), tag
    enclosure = item.find("enclosure")
    assert int(enclosure.get("length")) > 0 and enclosure.get("type") == "audio/mpeg"
    assert item.find("guid").get("isPermaLink") == "false"
    assert item.find("podcast:chapters", NS).get("type") == "application/json+chapters"


def test_cover_art_meets_apple_size_rules(feed_xml: bytes, recorded: Recorded) -> None:
    with Image.open(recorded.ctx.data.feed_dir / "cover.png") as cover:
        assert cover.format == "PNG" and cover.mode == "RGB"
        assert cover.width == cover.height and 1400 <= cover.width <= 3000


def _fake_episode(ctx: Context, source: EpisodePaths, show_id: str, age_days: int,
                  now: datetime) -> EpisodePaths:
    paths = EpisodePaths.of(ctx.data, show_id)
    ctx.data.episodes_dir.mkdir(exist_ok=True)
    for src, dst in zip(source.all(), paths.all(), strict=True):
        shutil.copyfile(src, dst)
    root = ctx.data.root
    ctx.store.save_episode(show_id, show_id, *(p.relative_to(root).as_posix() for p in paths.all()),
                           60.0, paths.mp3.stat().st_size, -16.0,
                           (now - timedelta(days=age_days)).isoformat())
    return paths


def test_retention_deletes_old_episodes_and_updates_the_feed(tmp_path: Path,
                                                             recorded: Recorded) -> None:
    settings = Settings(data_dir=tmp_path / "data").model_copy(update={
        "feed": Settings().feed.model_copy(update={"keep_episodes": 2, "keep_days": 30})})
    ctx = Context.from_settings(settings)
    now = datetime(2026, 5, 1, tzinfo=UTC)
    ages = {"daily-2026-04-30": 1, "daily-2026-04-29": 2, "daily-2026-04-28": 3,
            "weekly-2026-03-01": 60}
    paths = {show: _fake_episode(ctx, recorded.episode.paths, show, age, now)
             for show, age in ages.items()}
    removed = feed.apply_retention(ctx.store, ctx.data, settings, now)
    assert sorted(removed) == ["daily-2026-04-28", "weekly-2026-03-01"]
    kept = sorted(r["show_id"] for r in ctx.store.episodes())
    assert kept == ["daily-2026-04-29", "daily-2026-04-30"]
    for show, episode in paths.items():
        assert all(p.exists() for p in episode.all()) == (show in kept), show
    items = feedparser.parse((ctx.data.feed_dir / feed.FEED_FILE).read_bytes()).entries
    assert sorted(i.title for i in items) == kept
    ctx.store.close()
