"""The recorder worker over the bus: out-of-order, duplicated segments, exactly one episode."""

from __future__ import annotations

import asyncio
import random

import feedparser
import pytest

from radio.config import Settings
from radio.feed import FEED_FILE
from radio.messages import EpisodeRecorded, ErrorReport, SegmentVoiced
from radio.worker import Context
from tests.episodes.voicing import corpus_papers, script_for, store_show, voice_show
from tests.support.harness import BusProbe, running_worker
from tests.support.ports import free_port
from tests.support.settings import CORPUS

SHOW_ID = "daily-2026-04-29"


@pytest.fixture
def recorder_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"http_bind": f"127.0.0.1:{free_port()}"})


def shuffled_with_duplicates(messages: list[SegmentVoiced]) -> list[SegmentVoiced]:
    """Every segment, last one first, the rest shuffled, a third of them sent twice."""
    rng = random.Random(7)
    rest = messages[:-1]
    order = [messages[-1], *rng.sample(rest, len(rest))]
    order += rng.sample(messages, len(messages) // 3)
    rng.shuffle(order[1:])
    return order


@pytest.mark.slow
async def test_one_episode_from_out_of_order_duplicated_segments(
        recorder_settings: Settings) -> None:
    ctx = Context.from_settings(recorder_settings)
    papers = corpus_papers(CORPUS, 2)
    messages = voice_show(ctx.data, SHOW_ID, script_for(papers))
    store_show(ctx.store, SHOW_ID, "Daily papers, 29 April 2026", papers)
    async with BusProbe(recorder_settings, ["episodes/recorded"]) as probe:
        async with running_worker("recorder", recorder_settings):
            for message in shuffled_with_duplicates(messages):
                await probe.publish(message)
            recorded = await probe.expect(EpisodeRecorded, timeout=120)
            for message in messages[:3]:  # redelivered after the episode exists
                await probe.publish(message)
            await asyncio.sleep(3)
        async with running_worker("recorder", recorder_settings):  # a restart changes nothing
            await probe.publish(messages[-1])
            await asyncio.sleep(3)
    assert len(probe.messages(EpisodeRecorded)) == 1
    assert recorded.show_id == SHOW_ID and recorded.title == "Daily papers, 29 April 2026"
    assert abs(recorded.loudness_lufs + 16) <= 1
    for artifact in (recorded.mp3, recorded.transcript, recorded.chapters):
        ctx.data.verify(artifact)
    rows = ctx.store.episodes()
    assert [(r["show_id"], r["bytes"]) for r in rows] == [(SHOW_ID, recorded.mp3.bytes)]
    assert ctx.store.show(SHOW_ID)["status"] == "recorded"
    entries = feedparser.parse((ctx.data.feed_dir / FEED_FILE).read_bytes()).entries
    assert [e.title for e in entries] == ["Daily papers, 29 April 2026"]
    ctx.store.close()


async def test_a_segment_whose_audio_is_missing_is_reported(recorder_settings: Settings) -> None:
    settings = recorder_settings.model_copy(
        update={"bus": recorder_settings.bus.model_copy(update={"max_attempts": 1})})
    ctx = Context.from_settings(settings)
    [paper] = corpus_papers(CORPUS, 1)
    messages = voice_show(ctx.data, SHOW_ID, script_for([paper])[:2])
    ctx.data.resolve(messages[0].audio).unlink()
    async with (BusProbe(settings, ["errors"]) as probe, running_worker("recorder", settings)):
        await probe.publish(messages[0])
        error = await probe.expect(ErrorReport, timeout=30)
    assert error.worker == "recorder" and "segment audio missing" in error.reason
    assert error.key == SHOW_ID
    assert ctx.store.episodes() == []
    ctx.store.close()
