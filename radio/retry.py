"""Retry and back-off, one way: tenacity's retry loop with the station's exponential waits.

`Backoff(first, cap, jitter)` is the wait after the n-th failure in a row: `first`,
`2 * first`, ... up to `cap`, times a random factor drawn from `jitter`; `reset()` after a
good run (a connection that came up, a process that ran a good while) makes the next wait
`first` again. It is a tenacity wait strategy, and a plain callable too.

- `forever(backoff, on=...)`: attempts until cancelled (a connection, a supervised task):
  an exception of `on`, or a return, is followed by a wait and a fresh attempt; anything
  else is raised as it is.
- `attempts(n, wait, retry_if=...)`: up to `n` attempts (a handler, a request): an
  exception `retry_if` accepts is followed by a wait (a Backoff, or any tenacity wait:
  one the server asked for, say); the last one, or any other, is raised as it is (never
  wrapped in tenacity's RetryError).

Usage, async (one attempt per pass; `attempt.retry_state.attempt_number` counts them):

    backoff = Backoff(1.0, 60.0)
    async for attempt in forever(backoff, on=OSError, before_sleep=say_why):
        with attempt:
            await serve()      # raises OSError when the peer goes away
            backoff.reset()    # (where the attempt knows it went well)

In a thread, where the wait must end early on a stop (an output's supervisor), call the
same Backoff for each wait and reset it after a good run, e.g.
`stop.wait(backoff())` / `backoff.reset()`, or hand tenacity.Retrying the stop:
`Retrying(wait=backoff, sleep=stop.wait, retry=..., stop=...)`.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    retry_if_exception_type,
    retry_if_result,
    stop_after_attempt,
)
from tenacity.wait import wait_base

BeforeSleep = Callable[[RetryCallState], Awaitable[None] | None]
Wait = Callable[[RetryCallState], float]  # a Backoff, or any tenacity wait


class Backoff(wait_base):
    """Exponential waits, capped, with a multiplicative jitter; reset after a good run."""

    def __init__(self, first: float, cap: float, jitter: tuple[float, float] = (1.0, 1.0)
                 ) -> None:
        self.first = first
        self.cap = cap
        self.jitter = jitter
        self.failures = 0  # in a row, since the last reset

    def delay(self, failures: int) -> float:
        """The wait after the `failures`-th failure in a row (1 is the first)."""
        return min(self.first * 2 ** (failures - 1), self.cap) * random.uniform(*self.jitter)

    def __call__(self, retry_state: RetryCallState | None = None) -> float:
        self.failures += 1
        return self.delay(self.failures)

    def reset(self) -> None:
        self.failures = 0


def forever(backoff: Backoff, *, on: type[Exception] | tuple[type[Exception], ...] = (),
            before_sleep: BeforeSleep | None = None) -> AsyncRetrying:
    """Attempts until cancelled; a return or an exception of `on` waits and tries again."""
    return AsyncRetrying(
        wait=backoff, retry=retry_if_exception_type(on) | retry_if_result(lambda _: True),
        before_sleep=before_sleep, reraise=True)


def attempts(count: int, wait: Wait, *, retry_if: Callable[[Exception], bool],
             before_sleep: BeforeSleep | None = None) -> AsyncRetrying:
    """Up to `count` attempts; a failure `retry_if` accepts waits and tries again."""
    return AsyncRetrying(
        stop=stop_after_attempt(count), wait=wait,
        retry=retry_if_exception(lambda e: isinstance(e, Exception) and retry_if(e)),
        before_sleep=before_sleep, reraise=True)


def failure(state: RetryCallState) -> BaseException | None:
    """What the last attempt raised (None when it returned)."""
    return state.outcome.exception() if state.outcome and state.outcome.failed else None
