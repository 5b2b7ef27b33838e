"""Talking to improvement workflows by name, with errors a quality manager can act on.

Only `temporalio.client`, `base.improvements` and the payload models of `schemas/` are
imported: `closeloop improvement` never loads the workflows or the activities.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from temporalio.service import RPCError

from base import improvements
from base.settings import Settings
from closeloop.cli.errors import Refused
from closeloop.cli.temporal_calls import (
    RefusedWith,
    client_for,
    decision_sent,
    list_executions,
    minute,
    visibility_clauses,
    workflow_error,
)
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


class ImprovementRefused(RefusedWith[ImprovementRefusal]):
    """The workflow refused the decision; `refusal` is its structured reason when it gave one."""


def _rpc_error(improvement_id: str, error: RPCError, what: str) -> Exception:
    return workflow_error(
        error,
        what,
        missing=f"no improvement {improvement_id}",
        completed=f"improvement {improvement_id} is no longer open: it was standardised",
    )


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
    return await decision_sent(
        improvements.send_decision(client, improvement_id, decision, request, update_id=update_id),
        ImprovementRefused,
        lambda error: _rpc_error(improvement_id, error, "decision"),
    )


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
    clauses = visibility_clauses(
        IMPROVEMENT_WORKFLOW, running_only=running_only, filters=FILTERS, equals=equals
    )
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
    rows: list[dict[str, Any]] = []
    for execution in await list_executions(settings, query, limit):
        attributes = execution.typed_search_attributes
        rows.append(
            {
                "id": execution.id.removeprefix(WORKFLOW_ID_PREFIX),
                **{name: attributes.get(key) or "" for name, key in FILTERS.items()},
                "overdue": bool(attributes.get(search_attributes.OVERDUE)),
                "next_due": minute(attributes.get(search_attributes.NEXT_DUE)),
                "started": minute(execution.start_time),
            }
        )
    return rows
