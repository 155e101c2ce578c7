"""Two playout instances (separate processes) on one mosquitto and one PostgreSQL never
air the same line: each line goes on a timeline only once its instance has claimed it in
the store. The race: instance b starts while a is airing a show, and its restore finds
a's lines in the runtime's inbox, unaired."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from pydantic import SecretStr

from radio.artifacts import DataRoot
from radio.config import BusSettings, PlayoutSettings, Settings
from radio.messages import OnAirNow, WorkerStatus
from radio.store import Store
from tests.onair.voicing import sentences, voice_show
from tests.support.harness import BusProbe
from tests.support.mosquitto import Mosquitto
from tests.support.ports import free_port
from tests.support.postgres import Postgres
from tests.support.procs import spawn, stop, wait_for

SHOW = "latest-claims"
LINES = 7


def _settings(tmp_path: Path, mosquitto: Mosquitto, url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", broker_url=SecretStr(mosquitto.url),
                    database_url=url, bus=BusSettings(heartbeat_s=1.0),
                    playout=PlayoutSettings(ident_text="Paper Radio.", listen_bind=None))


def _playout(settings: Settings, instance: str, tmp_path: Path):
    return spawn(["worker", "playout", "--instance", instance], settings,
                 tmp_path / f"playout-{instance}.log",
                 RADIO_DATABASE_URL=str(settings.database_url),
                 RADIO_PLAYOUT__IDENT_TEXT="Paper Radio.", RADIO_PLAYOUT__BED_S="6",
                 RADIO_PLAYOUT__LISTEN_BIND=f"127.0.0.1:{free_port()}")


def _index(probe: BusProbe, topic: str, test) -> int:
    """Position of the first message on `topic` that passes `test`, in order of arrival."""
    for n, (got, payload) in enumerate(probe.received):
        if got == topic and test(payload):
            return n
    raise AssertionError(f"nothing on {topic} passed")


@pytest.mark.slow
async def test_two_playouts_never_air_the_same_line(tmp_path: Path, mosquitto: Mosquitto,
                                                    postgres_server: Postgres,
                                                    corpus: Path) -> None:
    settings = _settings(tmp_path, mosquitto, postgres_server.fresh_database("claims"))
    lines = voice_show(DataRoot(settings.data_dir), SHOW, sentences(corpus, LINES))
    store = Store(str(settings.database_url))
    procs = []
    try:
        async with BusProbe(settings, ["onair/now", "status/playout/#"]) as probe:
            procs.append(_playout(settings, "a", tmp_path))
            await probe.expect(WorkerStatus, topic="status/playout/a", timeout=120,
                               where=lambda s: s.state == "online")
            for line in lines:
                await probe.publish(line)
            wait_for(lambda: store.count_segments(SHOW) == LINES, 60, what="a's lines")
            # b starts while a airs the show: a's unaired lines are in the inbox b restores.
            procs.append(_playout(settings, "b", tmp_path))
            await probe.expect(WorkerStatus, topic="status/playout/b", timeout=120,
                               where=lambda s: s.state == "online")
            await probe.expect(OnAirNow, timeout=180,
                               where=lambda m: m.mode == "live" and m.seq == LINES - 1)
            time.sleep(8)  # b would air what it restored after its ident: give it the time
            live = Counter((m.show_id, m.seq) for m in probe.messages(OnAirNow)
                           if m.mode == "live")
            b_online = _index(probe, "status/playout/b",
                              lambda p: WorkerStatus.from_json(p).state == "online")
            last_aired = _index(probe, "onair/now", lambda p: OnAirNow.from_json(p).seq ==
                                LINES - 1 and OnAirNow.from_json(p).mode == "live")
    finally:
        for proc in procs:
            stop(proc)
    assert b_online < last_aired, "b came up after the show had aired: no race happened"
    assert sorted(live) == [(SHOW, seq) for seq in range(LINES)], live  # every line aired
    assert set(live.values()) == {1}, live.most_common(3)  # ... once
    assert {r["claimed_by"] for r in store.segments(SHOW)} == {"playout/a"}
    assert len(store.aired_at([SHOW])) == LINES
    store.close()
