"""Timeouts, retry policies, the system actor and how Closeloop's workflows run activities."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from schemas.decisions import Actor

A = TypeVar("A")
R = TypeVar("R")

SYSTEM_ACTOR = Actor(id="closeloop", name="Closeloop")

AUDIT_ACTIVITY_TIMEOUT = timedelta(seconds=30)
# The audit log must never be skipped: keep retrying a database outage with a capped backoff.
AUDIT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)

PUBLISH_ACTIVITY_TIMEOUT = timedelta(seconds=30)
# A broker outage delays status events and never loses them: retry without limit. The
# workflow sends them one at a time from an outbox, so decisions never wait for Kafka.
PUBLISH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)
)

POLICY_ACTIVITY_TIMEOUT = timedelta(seconds=10)

# Audit appends and status events run as local activities: one marker event each in the
# history instead of three, and no extra workflow task (issue 8, complaints that stay
# small). Runs from before the change replay their ordinary activities.
LOCAL_ACTIVITIES = "local-activities"


async def run_activity(
    method: Callable[[Any, A], Awaitable[R]] | Callable[[Any, A], R],
    arg: A,
    *,
    start_to_close: timedelta,
    retry: RetryPolicy,
    local: bool,
    summary: str | None = None,
) -> R:
    """Run an activity method with `arg`, locally when `local` (the run's
    `workflow.patched(LOCAL_ACTIVITIES)`, decided once at its start)."""
    if local:
        return await workflow.execute_local_activity_method(
            method,  # type: ignore[arg-type]
            arg,
            start_to_close_timeout=start_to_close,
            retry_policy=retry,
            summary=summary,
        )
    return await workflow.execute_activity_method(
        method,  # type: ignore[arg-type]
        arg,
        start_to_close_timeout=start_to_close,
        retry_policy=retry,
        summary=summary,
    )
