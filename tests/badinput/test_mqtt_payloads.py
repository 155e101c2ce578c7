"""Bad payloads through a real mosquitto: each one lands on `errors` with its reason, is
not stored in the inbox, and the worker handles the next good message."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from radio.messages import ErrorReport, ShowRequested, ShowWritten
from radio.store import Store
from radio.worker import MAX_PAYLOAD_BYTES
from tests.support.harness import BusProbe, running_worker
from tests.support.mosquitto import Mosquitto
from tests.support.relay import RelayWorker
from tests.support.settings import make_settings

GOOD = ShowRequested(show_id="after-the-bad-one", kind="latest", date="2026-11-21", length_s=60)
VALID = GOOD.model_dump(mode="json")


def json_of(**fields: object) -> bytes:
    return json.dumps({**VALID, "id": "", **fields}).encode()


BAD = {
    # A valid message, only too big (a category list of 300 KiB): refused for its size.
    "oversized": (json_of(categories=["cs.AI"] * 50_000), "more than the limit"),
    "not json": (b"\x00\xff\xfe binary garbage", "json_invalid"),
    "truncated json": (json_of()[:40], "json_invalid"),
    "deep nesting": (b"[" * 100_000 + b"]" * 100_000, "recursion limit"),
    "a list": (b"[]", "Input should be an object"),
    "null": (b"null", "Input should be an object"),
    "wrong type": (json_of(length_s="an hour"), "length_s"),
    "unknown field": (json_of(shell="$(rm -rf /)"), "Extra inputs are not permitted"),
    "newer schema": (json_of(schema_version=2), "schema_version 2 is newer than this code"),
}


@pytest.mark.parametrize("name", list(BAD))
async def test_bad_payload_is_reported_and_the_next_one_handled(
        name: str, mosquitto: Mosquitto, tmp_path: Path) -> None:
    payload, reason = BAD[name]
    settings = make_settings(tmp_path / "data", broker_url=SecretStr(mosquitto.url))
    async with running_worker(RelayWorker, settings), \
            BusProbe(settings, [ErrorReport.TOPIC, ShowWritten.TOPIC]) as probe:
        await probe.publish_raw(ShowRequested.TOPIC, payload)
        error = await probe.expect(ErrorReport, timeout=15)
        await probe.publish(GOOD)
        written = await probe.expect(ShowWritten, timeout=15)
    assert error.worker == "relay" and error.topic == ShowRequested.TOPIC
    assert error.reason.startswith("bad payload") and reason in error.reason
    assert written.show_id == GOOD.show_id
    assert len(error.to_json()) < 8_000  # the report does not carry the payload whole
    store = Store.open(settings)
    try:  # the failure is kept; of the two payloads only the good one reached the inbox
        (failure,) = store.failures(worker="relay")
        stored = store.inbox_received("relay", ShowRequested.TOPIC, "2000-01-01")
    finally:
        store.close()
    assert reason in failure["reason"]
    assert [ShowRequested.from_json(p).show_id for p in stored] == [GOOD.show_id]

def test_the_limit_leaves_room_for_real_messages() -> None:
    assert len(json_of()) * 100 < MAX_PAYLOAD_BYTES < 1 << 20  # under the broker's cap
