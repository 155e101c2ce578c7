"""What the runtime holds a worker to, without a broker: it publishes only what it declares."""

from __future__ import annotations

from pathlib import Path

import pytest

from radio.messages import ShowRequested, ShowWritten
from radio.worker import Context
from tests.support.relay import RelayWorker
from tests.support.settings import make_settings


async def test_a_worker_cannot_publish_what_it_does_not_declare(tmp_path: Path) -> None:
    ctx = Context.from_settings(make_settings(tmp_path / "data"))
    relay = RelayWorker(ctx, instance="contract")
    undeclared = ShowRequested(show_id="daily-2026-12-07", kind="daily", date="2026-12-07",
                               length_s=60)
    with pytest.raises(TypeError, match="ShowRequested, which is not among its produces"):
        await relay.publish(undeclared)
    assert ShowWritten in relay.produces
    ctx.store.close()
