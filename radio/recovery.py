"""What a worker does at each (re)start and (re)connect so that nothing is lost.

Re-announcing unfinished work, so that a broker restart loses nothing:

mosquitto 2.0 does not restore shared subscriptions (`$share/<worker>/...`) from
persistence: after a restart, work published to a shared group before one of its members
has subscribed again is dropped, QoS 1 or not. The answer, on any broker:

- every worker subscribes again on every (re)connect (radio/bus.py);
- a consumer, once subscribed, says so on `wanted/<topic>` (a `WorkWanted`, non-shared, so
  the producers' persistent sessions keep it for them while they are away);
- each producer of that topic answers with the work it made that this consumer's inbox
  does not hold (`Worker.pending`, rebuilt from the store with the ids it had then), and at
  its own (re)connect does the same for every consumer the inbox knows of.

A producer writes its store before it publishes, so whatever a dropped publish carried is
found by the next announce. Consumers deduplicate through their inbox: an item announced
twice is handled once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import time
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from radio.artifacts import temp_tag
from radio.bus import Subscription
from radio.messages import WORK_TOPICS, Message, WorkWanted, topic_of

if TYPE_CHECKING:
    from radio.worker import Worker

log = logging.getLogger(__name__)

# Work older than this is not announced again (it has aired, or nobody wants it).
WINDOW = timedelta(hours=48)
WANTED_PREFIX = "wanted/"


def wanted_topic(topic: str) -> str:
    return topic_of(WorkWanted, topic=topic)


def since() -> str:
    return (datetime.now(UTC) - WINDOW).isoformat(timespec="milliseconds")


def subscriptions(worker: Worker) -> tuple[Subscription, ...]:
    """Every instance of a producer hears every request (not shared: none may be dropped)."""
    return tuple(Subscription(wanted_topic(m.TOPIC), shared=False)
                 for m in worker.produces if m in WORK_TOPICS)


async def on_connect(worker: Worker) -> None:
    """Ask the producers of what this worker consumes for anything it missed; announce what
    this worker made to the consumers the inbox knows of."""
    for model in (m for m in worker.consumes if m in WORK_TOPICS):  # not state topics
        wanted = WorkWanted(worker=worker.name, instance=worker.instance, topic=model.TOPIC)
        await worker.bus.publish(wanted_topic(model.TOPIC), wanted.to_json(), qos=1)
    for model in (m for m in worker.produces if m in WORK_TOPICS):
        spawn(worker, announce(worker, model.TOPIC, None))


async def on_wanted(worker: Worker, payload: bytes) -> None:
    try:
        wanted = WorkWanted.from_json(payload)
    except ValueError as exc:
        log.warning("%s: bad wanted message: %s", worker.name, exc)
        return
    if wanted.topic in {m.TOPIC for m in worker.produces}:
        spawn(worker, announce(worker, wanted.topic, wanted.worker))


def spawn(worker: Worker, job: Coroutine[Any, Any, Any]) -> None:
    """Run an announce beside the bus loop (it reads the store and files)."""
    task = asyncio.ensure_future(job)
    worker._announcing.add(task)
    task.add_done_callback(worker._announcing.discard)


async def announce(worker: Worker, topic: str, consumer: str | None) -> int:
    """Publish the pending work on `topic` that `consumer` (or any known consumer) lacks."""
    await worker.ready.wait()  # pending() may need what setup() loads
    try:
        missing = await asyncio.to_thread(_missing, worker, topic, consumer)
    except Exception as exc:  # the store or a file is away: the next (re)connect tries again
        worker.log.warning("announce of %s failed: %s", topic, exc)
        return 0
    for message in missing:
        await worker.publish(message)
    if missing:
        worker.log.info("announced %d %s again (for %s)", len(missing), topic,
                        consumer or "every consumer")
    return len(missing)


def _missing(worker: Worker, topic: str, consumer: str | None) -> list[Message]:
    candidates = worker.pending(topic, since())
    if not candidates:
        return []
    consumers = [consumer] if consumer else worker.store.inbox_workers(topic)
    ids = [m.id for m in candidates]
    lacking: set[str] = set()
    for name in consumers:
        lacking |= worker.store.inbox_missing(name, ids)
    return [m for m in candidates if m.id in lacking]


# --- temporary files left by a killed process ------------------------------------------------

# `.<name>.<tag>.<random>.tmp` (radio.artifacts.atomic_path) and `.<dir>.<tag>.tmp-<hex>` (the
# pdf parser's staging folder), where the tag names the writing process (artifacts.temp_tag).
TEMP = re.compile(
    r"^\..+\.p(?P<pid>\d+)h(?P<host>[0-9a-f]{4})(\..*)?(\.tmp|\.tmp-[0-9a-f]{8})$")
UNTAGGED = re.compile(r"^\..+(\.tmp|\.tmp-[0-9a-f]{8})$")
STALE_S = 3600.0  # another machine's temp (or an untagged one) this old is abandoned


def clean_temporaries(root: Path) -> list[Path]:
    """Remove the temp files and staging folders under `root` whose writer is gone.

    Artifacts are written to a temp name and renamed, so a process killed mid-write leaves
    a temp behind, never a half-written artifact. A temp of a process of this machine that
    no longer runs is removed at once; one of another machine (a shared volume), or one
    without a tag, only when untouched for STALE_S.
    """
    removed: list[Path] = []
    if not root.is_dir():
        return removed
    me = temp_tag()
    for folder, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            path = Path(folder) / name
            if _abandoned(path, me):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                    dirs.remove(name)
                else:
                    path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def _abandoned(path: Path, me: str) -> bool:
    tagged = TEMP.match(path.name)
    if tagged and me.endswith("h" + tagged["host"]):
        return not _alive(int(tagged["pid"]))
    if tagged or UNTAGGED.match(path.name):
        return _last_touched(path) < time.time() - STALE_S
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _last_touched(path: Path) -> float:
    try:
        if not path.is_dir():
            return path.stat().st_mtime
        return max([path.stat().st_mtime] + [p.stat().st_mtime for p in path.rglob("*")])
    except OSError:
        return time.time()
