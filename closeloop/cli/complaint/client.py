"""Talking to complaint workflows by name, with errors an operator can act on.

Only `temporalio.client` and the payload models of `schemas/` are imported: the workflow
type, its Update and query names come from `schemas.decisions`, so a `closeloop complaint`
command never loads the workflows, the activities, SQLAlchemy or Kafka (issue 8, "Fast
CLI"; check with `python -X importtime -m closeloop complaint show X`).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from temporalio.service import RPCError, RPCStatusCode

from base import complaints
from base.settings import Settings
from closeloop.cli.errors import NotFound
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
from schemas.complaint_state import ComplaintState
from schemas.decisions import COMPLAINT_WORKFLOW, STATE_QUERY, Decision
from schemas.outcomes import DecisionReceipt, Refusal


class DecisionRefused(RefusedWith[Refusal]):
    """The workflow refused the decision; `refusal` is its structured reason when it gave one."""


def _rpc_error(complaint_id: str, error: RPCError, what: str) -> Exception:
    return workflow_error(
        error,
        what,
        missing=f"no complaint {complaint_id}",
        completed=f"complaint {complaint_id} is no longer open: its workflow has completed",
    )


async def send_decision(
    settings: Settings,
    complaint_id: str,
    decision: Decision,
    request: BaseModel,
    update_id: str,
) -> DecisionReceipt:
    """Send one decision (`base.complaints.send_decision`, by name) and return the receipt."""
    client = await client_for(settings)
    return await decision_sent(
        complaints.send_decision(client, complaint_id, decision, request, update_id=update_id),
        DecisionRefused,
        lambda error: _rpc_error(complaint_id, error, "decision"),
    )


async def current_state(settings: Settings, complaint_id: str) -> ComplaintState:
    client = await client_for(settings)
    handle = client.get_workflow_handle(complaints.workflow_id_for(complaint_id))
    try:
        return await handle.query(STATE_QUERY, result_type=ComplaintState)
    except RPCError as error:
        raise _rpc_error(complaint_id, error, "query") from None


async def require_complaint(settings: Settings, complaint_id: str, option: str) -> None:
    """Refuse a decision that names another complaint (`option`) which does not exist."""
    client = await client_for(settings)
    try:
        await client.get_workflow_handle(complaints.workflow_id_for(complaint_id)).describe()
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise NotFound(f"{option}: no complaint {complaint_id}") from None
        raise _rpc_error(complaint_id, error, "lookup") from None


def visibility_query(
    *,
    running_only: bool = True,
    overdue: bool = False,
    reportable: bool = False,
    **equals: str | None,
) -> str:
    """The Temporal visibility query for `complaint list` (the same the UI accepts).

    `equals` maps a filter (status, severity, category, product, customer, assignee) to the
    value its search attribute must have.
    """
    clauses = visibility_clauses(
        COMPLAINT_WORKFLOW, running_only=running_only, filters=FILTERS, equals=equals
    )
    if overdue:
        clauses.append(f"{search_attributes.OVERDUE.name} = true")
    if reportable:
        clauses.append(f"{search_attributes.REPORTABLE.name} = true")
    return " AND ".join(clauses)


# `complaint list` option -> the keyword search attribute it filters on, in query order.
FILTERS = {
    "status": search_attributes.STATUS,
    "severity": search_attributes.SEVERITY,
    "category": search_attributes.CATEGORY,
    "product": search_attributes.PRODUCT,
    "customer": search_attributes.CUSTOMER,
    "assignee": search_attributes.ASSIGNEE,
}


async def list_complaints(settings: Settings, query: str, limit: int) -> list[dict[str, Any]]:
    """One row per complaint, from its search attributes (no workflow is queried)."""
    rows: list[dict[str, Any]] = []
    for execution in await list_executions(settings, query, limit):
        attributes = execution.typed_search_attributes
        rows.append(
            {
                "id": execution.id,
                **{name: attributes.get(key) or "" for name, key in FILTERS.items()},
                "overdue": bool(attributes.get(search_attributes.OVERDUE)),
                "reportable": bool(attributes.get(search_attributes.REPORTABLE)),
                "next_due": minute(attributes.get(search_attributes.NEXT_DUE)),
                "started": minute(execution.start_time),
                "workflow_status": execution.status.name if execution.status else "",
            }
        )
    return rows
