"""Starting a complaint's workflow and sending it decisions, by name.

The one place that decides how a complaint becomes a case (`start_complaint`) and how a
decision reaches it (`send_decision`). Used by the stream processor, the CLI, tests and the
benchmark's baseline alike. Both go by the workflow's type and Update names, so callers
never import (or load) the workflow code.
"""

from __future__ import annotations

from pydantic import BaseModel
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from base.decision_update import DecisionKind, RefusedError, execute_decision
from base.start_once import StartOutcome, start_once
from schemas import search_attributes
from schemas.complaint_state import ComplaintStatus
from schemas.decisions import COMPLAINT_WORKFLOW, Decision
from schemas.events import ComplaintReceived
from schemas.outcomes import DecisionReceipt, Refusal

__all__ = [
    "DecisionConflictError",
    "DecisionRefusedError",
    "StartOutcome",
    "send_decision",
    "start_complaint",
    "workflow_id_for",
]


def workflow_id_for(complaint_id: str) -> str:
    """Invariant 1: the workflow id is the complaint id and nothing else."""
    return complaint_id


async def start_complaint(
    client: Client, task_queue: str, complaint: ComplaintReceived
) -> StartOutcome:
    """Start the complaint's workflow unless one ever existed for this complaint id.

    REJECT_DUPLICATE forbids a second run even after the first closed: a replayed or late
    intake event must not reopen a case (reopening is an explicit decision). FAIL makes a
    running duplicate an error we can recognise instead of silently attaching to it.
    """
    return await start_once(
        client,
        COMPLAINT_WORKFLOW,
        complaint,
        workflow_id=workflow_id_for(complaint.complaint_id),
        task_queue=task_queue,
        search_attributes=TypedSearchAttributes(
            [
                SearchAttributePair(search_attributes.STATUS, ComplaintStatus.RECEIVED.value),
                SearchAttributePair(search_attributes.PRODUCT, complaint.product.sku),
                SearchAttributePair(search_attributes.CUSTOMER, complaint.customer.id),
            ]
        ),
        static_summary=f"{complaint.complaint_id}: {complaint.summary[:200]}",
    )


class DecisionRefusedError(RefusedError[Refusal]):
    """The complaint's workflow refused the decision; `refusal` says why, with markers."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.plain())
        self.refusal = refusal


class DecisionConflictError(DecisionRefusedError):
    """The update id was already used for another decision or other content."""


_COMPLAINT = DecisionKind(
    receipt=DecisionReceipt,
    refusal=Refusal,
    id_field="complaint_id",
    refused=DecisionRefusedError,
    conflict=DecisionConflictError,
)


async def send_decision(
    client: Client,
    complaint_id: str,
    decision: Decision,
    request: BaseModel,
    *,
    update_id: str,
) -> DecisionReceipt:
    """Send one decision as a Temporal Update (by name) and return its receipt.

    A retry with the same `update_id` and the same content returns the first receipt. The
    same id with other content raises `DecisionConflictError`: either the workflow says so,
    or Temporal answered from its own de-duplication with the first receipt, whose
    `request_hash` then differs from this request's. Other Temporal errors (`RPCError`, for
    example NOT_FOUND for an unknown complaint) are left to the caller.
    """
    return await execute_decision(
        client,
        _COMPLAINT,
        workflow_id_for(complaint_id),
        complaint_id,
        decision,
        request,
        update_id=update_id,
    )
