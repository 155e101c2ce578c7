"""radio/retry.py: the waits, and what is retried, raised or tried again forever."""

from __future__ import annotations

import pytest

from radio import retry


def test_backoff_doubles_to_its_cap_and_starts_over_after_a_reset() -> None:
    backoff = retry.Backoff(0.5, 15.0)
    assert [backoff() for _ in range(7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0]
    backoff.reset()
    assert backoff() == 0.5
    jittered = retry.Backoff(2.0, 30.0, jitter=(0.5, 1.5))
    assert all(1.0 <= jittered.delay(1) <= 3.0 for _ in range(50))


async def test_attempts_raise_the_last_failure_itself_and_skip_what_retry_if_refuses() -> None:
    tries: list[int] = []

    async def flaky(fail: type[Exception]) -> None:
        async for attempt in retry.attempts(3, retry.Backoff(0.0, 0.0),
                                            retry_if=lambda e: not isinstance(e, KeyError)):
            with attempt:
                tries.append(attempt.retry_state.attempt_number)
                raise fail("no")

    with pytest.raises(ValueError, match="no"):  # not tenacity's RetryError
        await flaky(ValueError)
    assert tries == [1, 2, 3]
    tries.clear()
    with pytest.raises(KeyError):
        await flaky(KeyError)
    assert tries == [1]  # refused by retry_if: raised at once


async def test_forever_tries_again_after_a_return_or_a_listed_error_only() -> None:
    outcomes: list[object] = [OSError("away"), None, OSError("away"), KeyError("bug")]
    backoff = retry.Backoff(0.0, 0.0)
    with pytest.raises(KeyError, match="bug"):
        async for attempt in retry.forever(backoff, on=OSError):
            with attempt:
                outcome = outcomes.pop(0)
                if isinstance(outcome, Exception):
                    raise outcome
    assert outcomes == [] and backoff.failures == 3
