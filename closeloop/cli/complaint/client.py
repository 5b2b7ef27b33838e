"""Talking to complaint workflows by name, with errors an operator can act on.

Only `temporalio.client` and the payload models of `schemas/` are imported: the workflow
type, its Update and query names come from `schemas.decisions`, so a `closeloop complaint`
command never loads the workflows, the activities, SQLAlchemy or Kafka (issue 8, "Fast
CLI"; check with `python -X importtime -m closeloop complaint show X`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from base import complaints
from base.settings import Settings
from base.temporal import connect
from closeloop.cli.errors import NotFound, Refused, Unreachable
from schemas import search_attributes
from schemas.complaint_state import ComplaintState
from schemas.decisions import COMPLAINT_WORKFLOW, STATE_QUERY, Decision
from schemas.outcomes import DecisionReceipt, Refusal


class DecisionRefused(Refused):
    """The workflow refused the decision; `refusal` is its structured reason when it gave one."""

    def __init__(self, message: str, refusal: Refusal | None = None) -> None:
        super().__init__(message)
        self.refusal = refusal


_UNAVAILABLE = (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED)


async def client_for(settings: Settings) -> Client:
    try:
        return await connect(settings)
    except RuntimeError as exc:  # the core SDK reports a refused connection this way
        raise Unreachable(f"cannot reach Temporal at {settings.temporal_address}: {exc}") from None


def _rpc_error(complaint_id: str, error: RPCError, what: str) -> Exception:
    if error.status is RPCStatusCode.NOT_FOUND:
        if "complete" in error.message.lower():
            return NotFound(
                f"complaint {complaint_id} is no longer open: its workflow has completed"
            )
        return NotFound(f"no complaint {complaint_id}")
    if error.status in _UNAVAILABLE:
        return Unreachable(f"Temporal did not answer the {what}: {error.message}")
    return Refused(f"Temporal refused the {what}: {error.message}", prefix="")


async def send_decision(
    settings: Settings,
    complaint_id: str,
    decision: Decision,
    request: BaseModel,
    update_id: str,
) -> DecisionReceipt:
    """Send one decision (`base.complaints.send_decision`, by name) and return the receipt."""
    client = await client_for(settings)
    try:
        return await complaints.send_decision(
            client, complaint_id, decision, request, update_id=update_id
        )
    except complaints.DecisionRefusedError as refused:
        raise DecisionRefused(refused.refusal.plain(), refused.refusal) from None
    except WorkflowUpdateFailedError as failed:  # failed, but not with a Refusal
        cause = failed.cause
        raise DecisionRefused(str(getattr(cause, "message", None) or cause or failed)) from None
    except RPCError as error:
        raise _rpc_error(complaint_id, error, "decision") from None


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
    clauses = [f"WorkflowType = '{COMPLAINT_WORKFLOW}'"]
    if running_only:
        clauses.append("ExecutionStatus = 'Running'")
    for name, key in FILTERS.items():
        value = equals.pop(name, None)
        if value:
            clauses.append(f"{key.name} = '{_quoted(value)}'")
    if equals:
        raise TypeError(f"unknown filters: {', '.join(sorted(equals))}")
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


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


async def list_complaints(settings: Settings, query: str, limit: int) -> list[dict[str, Any]]:
    """One row per complaint, from its search attributes (no workflow is queried)."""
    client = await client_for(settings)
    rows: list[dict[str, Any]] = []
    try:
        async for execution in client.list_workflows(query, limit=limit):
            attributes = execution.typed_search_attributes
            due: datetime | None = attributes.get(search_attributes.NEXT_DUE)
            rows.append(
                {
                    "id": execution.id,
                    **{name: attributes.get(key) or "" for name, key in FILTERS.items()},
                    "overdue": bool(attributes.get(search_attributes.OVERDUE)),
                    "reportable": bool(attributes.get(search_attributes.REPORTABLE)),
                    "next_due": due.strftime("%Y-%m-%d %H:%M UTC") if due else "",
                    "started": execution.start_time.strftime("%Y-%m-%d %H:%M UTC"),
                    "workflow_status": execution.status.name if execution.status else "",
                }
            )
    except RPCError as error:
        if error.status in _UNAVAILABLE:
            raise Unreachable(f"Temporal did not answer the list query: {error.message}") from None
        raise Refused(f"Temporal refused the list query: {error.message}", prefix="") from None
    return rows
