"""Two test-only workers for the foundation tests: a relay and a sink.

They run the real runtime in separate OS processes (`radio worker
tests.support.relay:RelayWorker`) and leave a trace of every message they handle in
`<data_dir>/handled.txt`, so a test can count deliveries across processes.
"""

from __future__ import annotations

import asyncio
import os

from radio.artifacts import write_atomic
from radio.messages import ShowRequested, ShowWritten
from radio.worker import Worker


class RelayWorker(Worker[ShowRequested]):
    """shows/requested -> shows/written, with a tiny script file as the artifact."""

    name = "relay"
    consumes = (ShowRequested,)
    produces = (ShowWritten,)

    async def handle(self, message: ShowRequested) -> None:
        delay = float(os.environ.get("RELAY_DELAY_S", "0"))
        if delay:
            await asyncio.sleep(delay)
        with (self.data.root / "handled.txt").open("a") as trace:
            trace.write(f"{message.show_id}\n")
        script = write_atomic(self.data.show_dir(message.show_id) / "script.json", "[]")
        await self.publish(ShowWritten(
            show_id=message.show_id, kind=message.kind, title=message.show_id,
            script=self.data.artifact(script), lines=0, estimated_s=0.0, paper_ids=[]))


class SinkWorker(Worker[ShowWritten]):
    """Consumes shows/written and records each show id."""

    name = "sink"
    consumes = (ShowWritten,)

    async def handle(self, message: ShowWritten) -> None:
        self.data.verify(message.script)
        with (self.data.root / "handled.txt").open("a") as trace:
            trace.write(f"{message.show_id}\n")


class CrashOnceRelay(RelayWorker):
    """A relay whose first start crashes (a model that fails to load, say)."""

    name = "crashonce"

    async def setup(self) -> None:
        marker = self.data.root / "crashed-once"
        if not marker.exists():
            marker.touch()
            raise RuntimeError("simulated crash at start")
