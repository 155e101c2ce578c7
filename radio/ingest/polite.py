"""One polite HTTP client for every request to arXiv (API, RSS, OAI-PMH, PDFs).

arXiv's terms ask for one request at a time and at least 3 s between requests, across
all of its services. This client keeps both rules for everything that goes through it:
requests take turns (an asyncio lock within the process, a file lock under the data
root across processes, so `radio ingest` and a running station share one budget), and
each starts at least `min_request_interval_s` after the previous one ended. A 503 or 429
with `Retry-After` is waited out; 429, 5xx and network errors back off exponentially
with jitter up to `max_backoff_s`; after `max_attempts` the caller gets a `FetchError`
that says what happened. The turn is held while backing off, so nothing else is sent
to a host that just asked us to wait.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import random
import re
import time
from collections.abc import AsyncIterator, Collection
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx

from radio import __version__, retry
from radio.config import FetcherSettings

log = logging.getLogger(__name__)

USER_AGENT = f"paper-radio/{__version__} (+https://github.com/paper-radio; polite arXiv client)"
RETRYABLE = frozenset({429, 500, 502, 503, 504})


class FetchError(Exception):
    """A request to arXiv failed after the retries it deserved."""

    def __init__(self, message: str, *, status: int | None = None, body: bytes = b"") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class PermanentFetchError(FetchError):
    """A failure no retry fixes: 4xx other than 429, content that is not what was asked."""


class _Again(Exception):
    """A retryable failure, and how long to wait before the next try."""

    def __init__(self, error: FetchError, delay: float) -> None:
        super().__init__(str(error))
        self.error = error
        self.delay = delay


def _again(state: retry.RetryCallState) -> _Again:
    exc = retry.failure(state)
    assert isinstance(exc, _Again)  # the only failure that is retried
    return exc


class PoliteClient:
    """Serialised, spaced, retrying GETs to arXiv hosts."""

    def __init__(self, settings: FetcherSettings, *, lock_file: Path | None = None) -> None:
        self.settings = settings
        self.lock_file = lock_file
        self.sent = 0  # requests sent, retries included
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.request_timeout_s), follow_redirects=True,
            headers={"User-Agent": USER_AGENT})
        self._turn = asyncio.Lock()
        self._last_end = float("-inf")  # time.time() when the last request ended

    async def __aenter__(self) -> PoliteClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def get(self, url: str, *, params: dict[str, str] | None = None,
                  accept: Collection[int] = (200,)) -> httpx.Response:
        """GET with the body read; statuses in `accept` are returned, others raise.

        The whole body must come within `request_timeout_s`: a server that trickles bytes
        never trips the per-read timeout, and would hold the turn of every other request.
        """
        async with self.stream(url, params=params, accept=accept) as response:
            limit = self.settings.request_timeout_s
            try:
                async with asyncio.timeout(limit):
                    await response.aread()
            except TimeoutError:
                raise FetchError(f"arXiv sent the answer too slowly: not whole within "
                                 f"{limit:g} s ({response.url})") from None
            return response

    @contextlib.asynccontextmanager
    async def stream(self, url: str, *, params: dict[str, str] | None = None,
                     accept: Collection[int] = (200,)) -> AsyncIterator[httpx.Response]:
        """The response (body unread) after retries; the turn is held until the block ends."""
        async with self._turn, self._shared_turn():
            response = await self._send(url, params, accept)
            try:
                yield response
            finally:
                await response.aclose()
                self._ended()

    # --- retries -----------------------------------------------------------------------

    async def _send(self, url: str, params: dict[str, str] | None,
                    accept: Collection[int]) -> httpx.Response:
        attempts = max(1, self.settings.max_attempts)

        def say_again(state: retry.RetryCallState) -> None:
            log.warning("arXiv request failed (%s); try %d of %d in %.1f s",
                        _again(state).error, state.attempt_number + 1, attempts,
                        state.upcoming_sleep)

        async for attempt in retry.attempts(attempts, lambda state: _again(state).delay,
                                            retry_if=lambda e: isinstance(e, _Again),
                                            before_sleep=say_again):
            with attempt:
                return await self._try(url, params, accept,
                                       attempt.retry_state.attempt_number, attempts)
        raise AssertionError("unreachable")

    async def _try(self, url: str, params: dict[str, str] | None, accept: Collection[int],
                   attempt: int, attempts: int) -> httpx.Response:
        """One request: the response, or `_Again` with the wait before the next try."""
        await self._wait_interval()
        request = self._http.build_request("GET", url, params=params)
        self.sent += 1
        try:
            response = await self._http.send(request, stream=True)
        except httpx.TransportError as exc:
            self._ended()
            error = FetchError(f"{_describe(exc, self.settings)} ({request.url})")
            delay = self._backoff(attempt)
        else:
            if response.status_code in accept:
                return response
            body = await _read_some(response)
            self._ended()
            error = _status_error(request.url, response.status_code, body)
            if response.status_code not in RETRYABLE:
                raise error
            delay = _retry_after(response) or self._backoff(attempt)
        if attempt == attempts:
            raise FetchError(f"{error} (gave up after {attempts} attempts)",
                             status=error.status, body=error.body) from error
        if delay > self.settings.max_backoff_s:
            raise FetchError(f"{error}: arXiv asks to wait {delay:.0f} s, more than "
                             f"max_backoff_s={self.settings.max_backoff_s:.0f}",
                             status=error.status, body=error.body)
        raise _Again(error, delay)

    def _backoff(self, attempt: int) -> float:
        """Exponential back-off with jitter, capped."""
        return retry.Backoff(self.settings.backoff_base_s, self.settings.max_backoff_s,
                             jitter=(0.5, 1.0)).delay(attempt)

    # --- spacing -----------------------------------------------------------------------

    def _ended(self) -> None:
        self._last_end = time.time()
        if self.lock_file is not None:
            with contextlib.suppress(OSError):
                self.lock_file.write_text(f"{self._last_end:.3f}\n")

    async def _wait_interval(self) -> None:
        last = max(self._last_end, self._shared_last_end())
        wait = last + self.settings.min_request_interval_s - time.time()
        if wait > 0:
            await asyncio.sleep(wait)

    def _shared_last_end(self) -> float:
        if self.lock_file is None:
            return float("-inf")
        try:
            return float(self.lock_file.read_text().strip() or "-inf")
        except (OSError, ValueError):
            return float("-inf")

    @contextlib.asynccontextmanager
    async def _shared_turn(self) -> AsyncIterator[None]:
        """An exclusive lock on `lock_file`, so processes sharing a data root take turns."""
        if self.lock_file is None:
            yield
            return
        self.lock_file.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_file.with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o644)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    await asyncio.sleep(0.2)  # another process is talking to arXiv
            yield
        finally:
            os.close(fd)  # closing releases the lock


async def _read_some(response: httpx.Response, limit: int = 65536) -> bytes:
    body = b""
    with contextlib.suppress(httpx.HTTPError):
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) >= limit:
                break
    await response.aclose()
    return body[:limit]


def _status_error(url: httpx.URL, status: int, body: bytes) -> FetchError:
    kind = FetchError if status in RETRYABLE else PermanentFetchError
    text = re.sub(r"<[^>]*>", " ", body[:2000].decode("utf-8", "replace"))  # HTML to words
    snippet = " ".join(text.split())[:200]
    reason = "not found" if status == 404 else f"HTTP {status}"
    return kind(f"{reason} from {url}" + (f": {snippet}" if snippet else ""),
                status=status, body=body)


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds asked for by `Retry-After` (delta or HTTP date), with a little jitter."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, seconds) * random.uniform(1.0, 1.1)


def _describe(exc: httpx.TransportError, settings: FetcherSettings) -> str:
    if isinstance(exc, httpx.TimeoutException):
        return f"arXiv did not answer within {settings.request_timeout_s:g} s"
    return f"network error: {type(exc).__name__}: {exc}"
