"""fetcher: watches arXiv politely and downloads the PDFs of new papers.

Consumes: nothing (it has a clock). Produces: `papers/fetched`.

Every `fetcher.poll_interval_s` it reads the day's RSS listing of the configured
categories, keeps what is new (or a new version of a paper already here), fills in
dates from the API and the licence from OAI-PMH where the feed has none, downloads
each PDF and publishes `PaperFetched`, at most `fetcher.max_per_day` a day. Commands:
`fetch` with `{"ids": "2501.10120,astro-ph/0601001"}` fetches papers now; `poll` polls
now. A paper that fails is marked failed with the reason and reported on `errors`;
the loop goes on. All of this is in `radio.ingest`; this file is the clock around it.

Breaking news: papers new in a poll after the first one of this run (the first is the
catch-up of what appeared while the station was away) appeared while the station was on
air. The `BREAKING_PER_POLL` best ranked of them get a news show each (`shows/requested`,
kind news, recorded first like the scheduler's): the summarizer takes them first, the writer
before anything else, the playout at the next line boundary. The rest wait for the daily.
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

from radio.ingest.ingestor import STAGE, Ingestor, Outcome
from radio.messages import Artifact, Command, Message, PaperFetched, ShowRequested
from radio.shows.papers import load_papers
from radio.shows.ranking import Ranker
from radio.shows.records import record_request
from radio.shows.rundown import news_request
from radio.worker import Worker

POLL = None  # a request for a poll, beside lists of ids
BREAKING_PER_POLL = 2  # arXiv announces hundreds at once: news for the best few only


class FetcherWorker(Worker[Message]):
    name = "fetcher"
    consumes = ()
    produces = (PaperFetched, ShowRequested)

    async def setup(self) -> None:
        self.ingestor = Ingestor(self.settings, self.store, self.data)
        self.requests: asyncio.Queue[list[str] | None] = asyncio.Queue()
        self.polls = 0
        self.last_poll: datetime | None = None

    async def teardown(self) -> None:
        await self.ingestor.aclose()

    def pending(self, topic: str, since: str) -> list[Message]:
        """Papers fetched and published, rebuilt from the store (radio/recovery.py)."""
        if topic != PaperFetched.TOPIC:  # news requests are in the store for the writer
            return []
        rows = self.store.stages_since(STAGE, ("done",), since)
        return [m for r in rows if (m := fetched_message(self, r["arxiv_id"], r["version"]))]

    async def background(self) -> None:
        await self._settle([Outcome(m.arxiv_id, message=m) for m in self.ingestor.unpublished()])
        loop = asyncio.get_running_loop()
        next_poll = loop.time()
        while True:
            try:
                request = await asyncio.wait_for(self.requests.get(),
                                                 max(0.0, next_poll - loop.time()))
            except TimeoutError:
                request = POLL
            try:
                if request is POLL:
                    next_poll = loop.time() + self.settings.fetcher.poll_interval_s
                    await self._poll()
                else:
                    await self._settle(await self.ingestor.fetch_ids(request))
            except Exception as exc:  # one bad round must not stop the clock
                self.log.exception("fetcher round failed")
                await self.report_error("fetcher", None, f"{type(exc).__name__}: {exc}")

    async def on_command(self, command: Command) -> None:
        if command.action == "poll":
            self.requests.put_nowait(POLL)
        elif command.action == "fetch":
            ids = [i.strip() for i in command.args.get("ids", "").split(",") if i.strip()]
            if not ids:
                await self.report_error("commands/fetcher", None,
                                        'fetch needs args {"ids": "id1,id2"}')
                return
            self.requests.put_nowait(ids)
        else:
            await super().on_command(command)

    def status_detail(self) -> dict:
        ingestor = getattr(self, "ingestor", None)
        return {
            "polls": getattr(self, "polls", 0),
            "last_poll": last_poll.isoformat() if (last_poll := getattr(self, "last_poll", None))
            else None,
            "fetched_today": ingestor.fetched_today() if ingestor else 0,
            "arxiv_requests": ingestor.polite.sent if ingestor else 0,
            "categories": self.settings.categories,
        }

    async def _poll(self) -> None:
        self.polls += 1
        self.last_poll = datetime.now(UTC)
        try:
            outcomes = await self.ingestor.poll()
        except Exception as exc:
            await self.report_error("fetcher/poll", None, f"poll of arXiv failed: {exc}")
            return
        self.log.info("poll: %d fetched, %d failed", sum(1 for o in outcomes if o.message),
                      sum(1 for o in outcomes if o.error))
        await self._settle(outcomes)
        if self.polls > 1:
            await self._breaking([o.message for o in outcomes
                                  if o.message is not None and not o.message.is_revision])

    async def _breaking(self, fetched: list[PaperFetched]) -> None:
        """News shows for the best of the papers that appeared while on air."""
        if not fetched:
            return
        papers = load_papers(self.store, arxiv_ids=[m.arxiv_id for m in fetched])
        best = Ranker(self.settings).rank(papers, self.settings.categories)[:BREAKING_PER_POLL]
        now = datetime.now(UTC)
        for paper in best:
            request = news_request(paper.arxiv_id, now, self.settings.scheduler.timezone)
            if record_request(self.store, request):  # once per paper
                await self.publish(request)
                self.log.info("breaking news: %s (%s)", paper.arxiv_id, paper.title[:60])

    async def _settle(self, outcomes: list[Outcome]) -> None:
        """Publish what was fetched; report what failed."""
        for outcome in outcomes:
            if outcome.message is not None:
                await self.publish(outcome.message)
                self.ingestor.mark_published(outcome.message)
                self.handled += 1
            elif outcome.error is not None:
                self.failed += 1
                await self.report_error(PaperFetched.TOPIC, outcome.key, outcome.error)


def fetched_message(worker: Worker, arxiv_id: str, version: int) -> PaperFetched | None:
    """The PaperFetched of a stored version (same id: the id hangs on the PDF artifact);
    None when its PDF is gone."""
    paper = worker.store.paper(arxiv_id)
    row = next((v for v in worker.store.versions(arxiv_id) if v["version"] == version), None)
    if paper is None or row is None or not row["pdf_path"]:
        return None
    try:
        size = worker.data.resolve(row["pdf_path"]).stat().st_size
    except (OSError, ValueError):
        return None
    return PaperFetched(
        arxiv_id=arxiv_id, version=version, title=paper["title"],
        authors=json.loads(paper["authors"]), abstract=paper["abstract"],
        categories=json.loads(paper["categories"]), primary_category=paper["primary_category"],
        published=paper["published"], updated=paper["updated"],
        licence_url=paper["licence_url"], announce_type=paper["announce_type"],
        source=paper["source"],
        pdf=Artifact(path=row["pdf_path"], sha256=row["pdf_sha256"], bytes=size))
