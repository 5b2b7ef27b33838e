"""Transient Temporal trouble is retried for as long as it lasts; a refusal is not."""

from __future__ import annotations

import asyncio

import pytest
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from base.temporal_retry import is_transient, retry_transient


@pytest.mark.parametrize(
    "error",
    [
        RPCError("down", RPCStatusCode.UNAVAILABLE, b""),
        RPCError("slow down", RPCStatusCode.RESOURCE_EXHAUSTED, b""),
        RPCError("late", RPCStatusCode.DEADLINE_EXCEEDED, b""),
        RPCError("expired", RPCStatusCode.UNAUTHENTICATED, b""),
        # An Update while the workflow's last task timed out on a busy or restarting worker.
        RPCError(
            "Unable to perform workflow execution update due to Workflow Task in failed state.",
            RPCStatusCode.FAILED_PRECONDITION,
            b"",
        ),
        WorkflowUpdateRPCTimeoutOrCancelledError(),
        RuntimeError("Failed client connect: tcp connect error"),
        ConnectionRefusedError(),
    ],
)
def test_transient(error: BaseException) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        RPCError("bad", RPCStatusCode.INVALID_ARGUMENT, b""),
        RPCError("missing", RPCStatusCode.NOT_FOUND, b""),
        RPCError("workflow already completed", RPCStatusCode.FAILED_PRECONDITION, b""),
        ValueError("no"),
    ],
)
def test_not_transient(error: BaseException) -> None:
    assert not is_transient(error)


def test_retries_until_it_works_and_never_past_a_refusal() -> None:
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 4:
            raise RPCError("down", RPCStatusCode.UNAVAILABLE, b"")
        return "ok"

    assert asyncio.run(retry_transient(flaky, what="t", initial_delay=0.001)) == "ok"
    assert calls == 4

    async def refused() -> str:
        raise RPCError("bad", RPCStatusCode.INVALID_ARGUMENT, b"")

    with pytest.raises(RPCError):
        asyncio.run(retry_transient(refused, what="t", initial_delay=0.001))
