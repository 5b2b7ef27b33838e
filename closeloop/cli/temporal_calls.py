"""How every `closeloop` command reaches Temporal and words what Temporal answered.

The complaint and the improvement commands talk to their workflows the same way: one
connection per command, and the same few RPC failures (not found, no answer, refused)
turned into the CLI's errors with the same words. Only the noun and the "no longer open"
sentence differ, so those are the callers' and the rest lives here once.

Only `temporalio.client` is imported, like the clients that use this (issue 8, "Fast CLI").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

from temporalio.client import Client, WorkflowExecution, WorkflowUpdateFailedError
from temporalio.common import SearchAttributeKey
from temporalio.service import RPCError, RPCStatusCode

from base.decision_update import RefusedError
from base.settings import Settings
from base.temporal import connect
from closeloop.cli.errors import NotFound, Refused, Unreachable

_UNAVAILABLE = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)

R = TypeVar("R")
T = TypeVar("T")


class RefusedWith(Refused, Generic[R]):
    """The workflow refused the decision; `refusal` is its structured reason when it gave one
    (a complaint's `Refusal` or an improvement's), so a command can word it for the CLI."""

    def __init__(self, message: str, refusal: R | None = None) -> None:
        super().__init__(message)
        self.refusal = refusal


async def client_for(settings: Settings) -> Client:
    try:
        return await connect(settings)
    except RuntimeError as exc:  # the core SDK reports a refused connection this way
        raise Unreachable(f"cannot reach Temporal at {settings.temporal_address}: {exc}") from None


def temporal_error(error: RPCError, what: str) -> Exception:
    """Temporal gave no answer (exit: unreachable) or refused `what` (exit: refused)."""
    if error.status in _UNAVAILABLE:
        return Unreachable(f"Temporal did not answer the {what}: {error.message}")
    return Refused(f"Temporal refused the {what}: {error.message}", prefix="")


def workflow_error(error: RPCError, what: str, *, missing: str, completed: str) -> Exception:
    """`temporal_error`, but NOT_FOUND names the case: `completed` when its workflow has
    finished (Temporal's message says "complete"), else `missing`."""
    if error.status is RPCStatusCode.NOT_FOUND:
        return NotFound(completed if "complete" in error.message.lower() else missing)
    return temporal_error(error, what)


def update_failure(failed: WorkflowUpdateFailedError) -> str:
    """The reason of an Update that failed without a structured refusal."""
    cause = failed.cause
    return str(getattr(cause, "message", None) or cause or failed)


async def decision_sent(
    sending: Awaitable[T],
    refused: Callable[..., RefusedWith[Any]],
    rpc_error: Callable[[RPCError], Exception],
) -> T:
    """Await a decision's Update (`base.complaints` or `base.improvements`) and turn its
    failures into the CLI's errors: `refused` with the workflow's structured refusal, or
    with the reason of an Update that failed otherwise; `rpc_error` for Temporal's own."""
    try:
        return await sending
    except RefusedError as error:
        raise refused(error.refusal.plain(), error.refusal) from None
    except WorkflowUpdateFailedError as failed:  # failed, but not with a refusal
        raise refused(update_failure(failed)) from None
    except RPCError as error:
        raise rpc_error(error) from None


def visibility_clauses(
    workflow_type: str,
    *,
    running_only: bool,
    filters: Mapping[str, SearchAttributeKey[str]],
    equals: dict[str, str | None],
) -> list[str]:
    """The clauses of a `list` command's visibility query up to its flags: the workflow
    type, running only, then one `key = 'value'` per filter given, in `filters` order.
    `equals` is consumed; a name left in it is not a filter (TypeError)."""
    clauses = [f"WorkflowType = '{workflow_type}'"]
    if running_only:
        clauses.append("ExecutionStatus = 'Running'")
    for name, key in filters.items():
        value = equals.pop(name, None)
        if value:
            quoted = value.replace("\\", "\\\\").replace("'", "\\'")
            clauses.append(f"{key.name} = '{quoted}'")
    if equals:
        raise TypeError(f"unknown filters: {', '.join(sorted(equals))}")
    return clauses


async def list_executions(settings: Settings, query: str, limit: int) -> list[WorkflowExecution]:
    """The executions a visibility query matches (no workflow is queried)."""
    client = await client_for(settings)
    try:
        return [execution async for execution in client.list_workflows(query, limit=limit)]
    except RPCError as error:
        raise temporal_error(error, "list query") from None


def minute(when: datetime | None) -> str:
    """A time as `list` rows show it ("" for none)."""
    return when.strftime("%Y-%m-%d %H:%M UTC") if when else ""
