"""One way to retry: exponential backoff with a log line per attempt, on tenacity.

The stream's backpressure (Temporal unreachable, the dead-letter topic down), waiting for a
complaint that has not been started yet, and connecting to Temporal at start all retry the
same way; only what counts as "try again" and for how long differ. Each caller passes a
predicate and, when the wait is bounded, a time budget in seconds (never a number of
attempts: on a busy machine attempts go by at unpredictable speed).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    retry_if_result,
    stop_after_delay,
    stop_never,
    wait_exponential,
)

T = TypeVar("T")


def _logger(
    what: str, context: Mapping[str, Any] | None, on_retry: Callable[[], None] | None = None
) -> Callable[[RetryCallState], None]:
    def before_sleep(state: RetryCallState) -> None:
        if on_retry is not None:  # e.g. the stream's retried-events counter
            on_retry()
        # Imported here: structlog pulls in rich, and the CLI's fast commands import this
        # module without ever retrying.
        import structlog

        outcome = state.outcome
        error = outcome.exception() if outcome is not None and outcome.failed else None
        structlog.get_logger(__name__).warning(
            f"{what}, retrying",
            attempt=state.attempt_number,
            retry_in_s=round(state.upcoming_sleep, 2),
            error=type(error).__name__ if error is not None else None,
            **(context or {}),
        )

    return before_sleep


async def retry_while_raising(
    call: Callable[[], Awaitable[T]],
    *,
    transient: Callable[[BaseException], bool],
    what: str,
    log_context: Mapping[str, Any] | None = None,
    initial_delay: float = 0.2,
    max_delay: float = 10.0,
    budget_s: float | None = None,
    on_retry: Callable[[], None] | None = None,
) -> T:
    """Call until it returns; retry errors that `transient` accepts, raise the others.

    Without a budget it retries for ever: callers use that where giving up would lose data
    (the event stays unacknowledged, so its offset is not committed).
    """
    retrying = AsyncRetrying(
        retry=retry_if_exception(transient),
        wait=wait_exponential(multiplier=initial_delay, min=initial_delay, max=max_delay),
        stop=stop_never if budget_s is None else stop_after_delay(budget_s),
        before_sleep=_logger(what, log_context, on_retry),
        reraise=True,
    )
    return await retrying(_awaiting(call))


async def retry_until(
    call: Callable[[], Awaitable[T]],
    done: Callable[[T], bool],
    *,
    what: str,
    budget_s: float,
    log_context: Mapping[str, Any] | None = None,
    initial_delay: float = 0.1,
    max_delay: float = 2.0,
) -> T:
    """Call until `done(result)` or the budget is spent; return the last result either way."""
    retrying = AsyncRetrying(
        retry=retry_if_result(lambda result: not done(result)),
        wait=wait_exponential(multiplier=initial_delay, min=initial_delay, max=max_delay),
        stop=stop_after_delay(budget_s),
        before_sleep=_logger(what, log_context),
        retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
    )
    return await retrying(_awaiting(call))


def _awaiting(call: Callable[[], Awaitable[T]]) -> Callable[[], Awaitable[T]]:
    """tenacity tells async callables by their type: a lambda returning a coroutine would be
    taken for a plain function and its coroutine returned unawaited."""

    async def attempt() -> T:
        return await call()

    return attempt
