"""Talking to improvement workflows by name, with errors a quality manager can act on.

Only `temporalio.client`, `base.improvements` and the payload models of `schemas/` are
imported: `closeloop improvement` never loads the workflows or the activities.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from base import improvements
from base.settings import Settings
from closeloop.cli.complaint.client import client_for
from closeloop.cli.errors import NotFound, Refused, Unreachable
from schemas import search_attributes
from schemas.improvement import (
    IMPROVEMENT_WORKFLOW,
    WORKFLOW_ID_PREFIX,
    ImprovementDecision,
    ImprovementReceipt,
    ImprovementRefusal,
    ImprovementState,
    OpenImprovement,
)

_UNAVAILABLE = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)


class ImprovementRefused(Refused):
    """The workflow refused the decision; `refusal` is its structured reason when it gave one."""

    def __init__(self, message: str, refusal: ImprovementRefusal | None = None) -> None:
        super().__init__(message)
        self.refusal = refusal


def _rpc_error(improvement_id: str, error: RPCError, what: str) -> Exception:
    if error.status is RPCStatusCode.NOT_FOUND:
        if "complete" in error.message.lower():
            return NotFound(f"improvement {improvement_id} is no longer open: it was standardised")
        return NotFound(f"no improvement {improvement_id}")
    if error.status in _UNAVAILABLE:
        return Unreachable(f"Temporal did not answer the {what}: {error.message}")
    return Refused(f"Temporal refused the {what}: {error.message}", prefix="")


async def open_improvement(settings: Settings, opened: OpenImprovement) -> None:
    client = await client_for(settings)
    try:
        outcome = await improvements.open_improvement(client, settings.task_queue, opened)
    except RPCError as error:
        raise _rpc_error(opened.improvement_id, error, "start") from None
    if outcome is improvements.StartOutcome.DUPLICATE:
        raise Refused(
            f"improvement {opened.improvement_id} already exists (--id): give another id, or "
            "leave --id out for a new one"
        )


async def send_decision(
    settings: Settings,
    improvement_id: str,
    decision: ImprovementDecision,
    request: BaseModel,
    update_id: str,
) -> ImprovementReceipt:
    client = await client_for(settings)
    try:
        return await improvements.send_decision(
            client, improvement_id, decision, request, update_id=update_id
        )
    except improvements.ImprovementRefusedError as refused:
        raise ImprovementRefused(refused.refusal.plain(), refused.refusal) from None
    except WorkflowUpdateFailedError as failed:  # failed, but not with a refusal
        cause = failed.cause
        raise ImprovementRefused(str(getattr(cause, "message", None) or cause or failed)) from None
    except RPCError as error:
        raise _rpc_error(improvement_id, error, "decision") from None


async def current_state(settings: Settings, improvement_id: str) -> ImprovementState:
    client = await client_for(settings)
    try:
        return await improvements.current_state(client, improvement_id)
    except RPCError as error:
        raise _rpc_error(improvement_id, error, "query") from None


def visibility_query(
    *, running_only: bool = True, overdue: bool = False, **equals: str | None
) -> str:
    """The Temporal visibility query for `improvement list` (the same the UI accepts)."""
    clauses = [f"WorkflowType = '{IMPROVEMENT_WORKFLOW}'"]
    if running_only:
        clauses.append("ExecutionStatus = 'Running'")
    for name, key in FILTERS.items():
        value = equals.pop(name, None)
        if value:
            quoted = value.replace("\\", "\\\\").replace("'", "\\'")
            clauses.append(f"{key.name} = '{quoted}'")
    if equals:
        raise TypeError(f"unknown filters: {', '.join(sorted(equals))}")
    if overdue:
        clauses.append(f"{search_attributes.OVERDUE.name} = true")
    return " AND ".join(clauses)


# `improvement list` option -> the keyword search attribute it filters on.
FILTERS = {
    "status": search_attributes.STATUS,
    "owner": search_attributes.ASSIGNEE,
    "product": search_attributes.PRODUCT,
}


async def list_improvements(settings: Settings, query: str, limit: int) -> list[dict[str, Any]]:
    client = await client_for(settings)
    rows: list[dict[str, Any]] = []
    try:
        async for execution in client.list_workflows(query, limit=limit):
            attributes = execution.typed_search_attributes
            due: datetime | None = attributes.get(search_attributes.NEXT_DUE)
            rows.append(
                {
                    "id": execution.id.removeprefix(WORKFLOW_ID_PREFIX),
                    **{name: attributes.get(key) or "" for name, key in FILTERS.items()},
                    "overdue": bool(attributes.get(search_attributes.OVERDUE)),
                    "next_due": due.strftime("%Y-%m-%d %H:%M UTC") if due else "",
                    "started": execution.start_time.strftime("%Y-%m-%d %H:%M UTC"),
                }
            )
    except RPCError as error:
        if error.status in _UNAVAILABLE:
            raise Unreachable(f"Temporal did not answer the list query: {error.message}") from None
        raise Refused(f"Temporal refused the list query: {error.message}", prefix="") from None
    return rows
