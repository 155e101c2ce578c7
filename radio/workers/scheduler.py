"""scheduler: the schedule (store) -> ShowRequested at each show's time; keeps a buffer.

Every tick it reads the `schedule` table, fires the entries that are due (time-zone aware,
stable show ids so a refire is handled once), and, when less than
`scheduler.buffer_ahead_s` of airtime is voiced or on its way, asks for a "latest" show
(papers no show has covered) or else a deep dive. Such filler requests are marked
`filler` (the writer puts scheduled and operator-requested shows first), and are asked for
only when there is material: papers neither aired nor taken by a show still to be written.
With none, the scheduler asks for nothing (the playout's fallback covers the gap) and says so
once, in its log and in `radio status`. A retained `schedule` message from the
CLI wakes it at once; the store is the truth, so a missed message only delays a change by
one tick. The clock is injectable, so tests can run it fast.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from radio.clock import StationClock
from radio.messages import Message, ScheduleChanged, ScheduleEntry, ShowRequested
from radio.shows.papers import NoPapers, select_papers
from radio.shows.ranking import Ranker
from radio.shows.records import pending_seconds, record_request
from radio.shows.schedule import (
    claim_run,
    last_run,
    load_entries,
    next_run,
    run_marker,
    seed_starter_shows,
    set_last_run,
    show_request,
)
from radio.worker import Context, Worker


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep(self, seconds: float) -> None: ...


class SchedulerWorker(Worker[ScheduleChanged]):
    name = "scheduler"
    consumes = (ScheduleChanged,)
    produces = (ShowRequested,)

    def __init__(self, ctx: Context, instance: str | None = None, *,
                 clock: Clock | None = None) -> None:
        super().__init__(ctx, instance)
        # Station time (faster in a soak: clock.time_scale).
        self.clock: Clock = clock or StationClock(ctx.settings.clock)
        self._wake = asyncio.Event()
        self._last_filler: datetime | None = None
        self.idle_reason: str | None = None  # why no filler was requested, while it holds
        self.fired: list[str] = []

    async def setup(self) -> None:
        seeded = seed_starter_shows(self.store, self.settings)
        for entry in load_entries(self.store):
            if entry.id in seeded:
                self.log.info("starter show scheduled: %s at %s %s %s (`radio schedule list`)",
                              entry.kind, entry.at, ",".join(entry.days), entry.tz)

    async def handle(self, message: ScheduleChanged) -> None:
        self._wake.set()  # the store already holds the change: look at it now

    async def background(self) -> None:
        await self._announce_unpublished()
        while True:
            self._wake.clear()
            wait = await self.tick()
            sleeper = asyncio.ensure_future(self.clock.sleep(wait))
            waker = asyncio.ensure_future(self._wake.wait())
            try:
                await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in (sleeper, waker):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    async def _announce_unpublished(self) -> None:
        """Publish again the shows requested within `catch_up_s` and not written yet: one
        may have been claimed by a scheduler that died before publishing it. The writer
        takes each once (the message id is the show id's; its inbox drops a repeat)."""
        # Wall time, as the rows' created_at (the station clock may run faster in a soak).
        since = datetime.now(UTC) - timedelta(seconds=self.settings.scheduler.catch_up_s)
        for raw in self.store.show_requests(("requested",), since=since.isoformat()):
            try:
                request = ShowRequested.model_validate_json(raw)
            except ValueError:
                continue
            await self.publish(request)
            self.log.info("announced %s again (requested, not written yet)", request.show_id)

    async def tick(self) -> float:
        """Fire what is due and top up the buffer; returns the seconds until the next look."""
        now = self.clock.now()
        wait = self.settings.scheduler.tick_s
        for entry in load_entries(self.store, now):
            if entry.paused:
                continue
            await self._maybe_fire(entry, now)
            upcoming = next_run(entry, last_run(self.store, entry.id) or now)
            wait = min(wait, max((upcoming - now).total_seconds(), 0.0))
        await self._keep_ahead(now)
        return max(wait, 0.01)

    async def _maybe_fire(self, entry: ScheduleEntry, now: datetime) -> None:
        seen = run_marker(self.store, entry.id)
        due = next_run(entry, last_run(self.store, entry.id) or now)
        if due > now:
            return
        if now - due > timedelta(seconds=self.settings.scheduler.catch_up_s):
            self.log.warning("schedule %d: missed %s by more than %ds; skipping to the next",
                             entry.id, due.isoformat(), self.settings.scheduler.catch_up_s)
            set_last_run(self.store, entry.id, now)
            return
        request = show_request(entry, due)
        # The run and the show's row in one transaction: a scheduler killed before it
        # publishes leaves a requested show, which the next one to start announces again.
        with self.store.transaction() as t:
            if not claim_run(t, entry.id, seen, due):
                self.log.info("schedule %d: %s was fired by another scheduler", entry.id,
                              request.show_id)
                return
            record_request(t, request)
        await self.publish(request)
        self.fired.append(request.show_id)
        self.log.info("schedule %d fired %s (due %s)", entry.id, request.show_id, due)

    async def _keep_ahead(self, now: datetime) -> None:
        """Ask for a between-shows programme when the air would soon run dry."""
        cfg = self.settings.scheduler
        if pending_seconds(self.store) >= cfg.buffer_ahead_s:
            return
        gap = timedelta(seconds=max(cfg.tick_s * 12, 60.0))
        if self._last_filler and now - self._last_filler < gap:
            return  # one at a time: a failing writer must not be flooded
        self._last_filler = now
        request = self._filler(now)
        if request is None:
            reason = ("nothing new to air: every paper has aired or is taken by a show still "
                      "to be written; the playout's fallback covers the gap")
            if reason != self.idle_reason:
                self.log.info("buffer low, but %s", reason)
                self.idle_reason = reason
                await self.publish_status()
            return
        self.idle_reason = None
        record_request(self.store, request)
        await self.publish(request)
        self.fired.append(request.show_id)
        self.log.info("buffer low: requested %s", request.show_id)

    def pending(self, topic: str, since: str) -> list[Message]:
        """Shows requested and not yet written (radio/recovery.py)."""
        found: list[Message] = []
        for raw in self.store.show_requests(("requested",)):
            with contextlib.suppress(ValueError):
                found.append(ShowRequested.model_validate_json(raw))
        return found

    def _claimed(self) -> set[str]:
        """Papers that shows requested but not yet written will take."""
        claimed: set[str] = set()
        for raw in self.store.show_requests(("requested",)):
            try:
                pending = ShowRequested.model_validate_json(raw)
                claimed.update(p.arxiv_id for p in select_papers(self.store, pending,
                                                                 self.settings))
            except (ValueError, NoPapers):  # unreadable, or nothing left for it
                continue
        return claimed

    def _filler(self, now: datetime) -> ShowRequested | None:
        cfg = self.settings.scheduler
        local = now.astimezone(ZoneInfo(cfg.timezone))
        day = local.date().isoformat()
        latest = ShowRequested(show_id=f"latest-{day}-{local:%H%M}", kind="latest", date=day,
                               length_s=cfg.latest_length_s, filler=True)
        claimed = self._claimed()
        if self._unclaimed(latest, claimed):
            return latest
        probe = ShowRequested(show_id="deep-dive-probe", kind="deep_dive", date=day,
                              length_s=cfg.deep_dive_length_s)
        papers = self._unclaimed(probe, claimed)
        if not papers:
            return None
        top = Ranker(self.settings).rank(papers, self.settings.categories)[0].arxiv_id
        return ShowRequested(show_id=f"deep_dive-{top.replace('/', '-').lower()}",
                             kind="deep_dive", date=day, length_s=cfg.deep_dive_length_s,
                             paper_ids=[top], filler=True)

    def _unclaimed(self, request: ShowRequested, claimed: set[str]) -> list:
        try:
            papers = select_papers(self.store, request, self.settings)
        except NoPapers:
            return []
        return [p for p in papers if p.arxiv_id not in claimed]

    def status_detail(self) -> dict:
        now = self.clock.now()
        entries = [e for e in load_entries(self.store, now) if not e.paused]
        upcoming = min((e.next_run for e in entries if e.next_run), default=None)
        return {"entries": len(entries), "next_run": upcoming.isoformat() if upcoming else None,
                "buffer_s": round(pending_seconds(self.store)), "fired": self.fired[-5:],
                **({"note": self.idle_reason} if self.idle_reason else {})}
