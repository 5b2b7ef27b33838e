"""Telling transient Temporal trouble (retry, this is backpressure) from a refusal.

The stream dead-letters what Temporal refuses and retries what is transient; the CLI and the
worker wait for a Temporal that is still starting. One predicate serves them all."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from temporalio.client import RPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from base.retry import retry_while_raising

T = TypeVar("T")

TRANSIENT_CODES = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.ABORTED,
        RPCStatusCode.CANCELLED,
        RPCStatusCode.INTERNAL,
        RPCStatusCode.UNKNOWN,
        # Expired or missing credentials are an outage of ours, not the event's fault: wait
        # (and log) until they are fixed rather than dead-letter every event meanwhile.
        RPCStatusCode.UNAUTHENTICATED,
        RPCStatusCode.PERMISSION_DENIED,
    }
)


# Temporal refuses an Update while the workflow's last task failed or timed out (a busy or
# restarting worker): the next successful task clears it, so it is trouble to wait out.
WORKFLOW_TASK_FAILED = "Workflow Task in failed state"


def is_transient(error: BaseException) -> bool:
    """Unreachable, throttling, timed out or cancelled: try again later, never dead-letter."""
    if isinstance(error, RPCError):
        if error.status == RPCStatusCode.FAILED_PRECONDITION:
            return WORKFLOW_TASK_FAILED in (error.message or "")
        return error.status in TRANSIENT_CODES
    if isinstance(error, RPCTimeoutOrCancelledError):  # e.g. an Update's long poll timed out
        return True
    # The core SDK reports a lost connection as a plain RuntimeError or OSError.
    return isinstance(error, RuntimeError | OSError | asyncio.TimeoutError)


async def retry_transient(
    call: Callable[[], Awaitable[T]],
    *,
    what: str,
    log_context: dict[str, str] | None = None,
    initial_delay: float = 0.2,
    max_delay: float = 10.0,
    on_retry: Callable[[], None] | None = None,
) -> T:
    """Retry `call` for as long as Temporal is unreachable or throttling: this is backpressure.

    The stream does not move past the event, so its offset is not committed, and nothing is
    lost or skipped. Permanent errors propagate to the caller.
    """
    return await retry_while_raising(
        call,
        transient=is_transient,
        what=f"temporal unavailable ({what})",
        log_context=log_context,
        initial_delay=initial_delay,
        max_delay=max_delay,
        on_retry=on_retry,
    )
