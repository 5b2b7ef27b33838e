"""Starting a complaint's workflow and sending it decisions, by name.

The one place that decides how a complaint becomes a case (`start_complaint`) and how a
decision reaches it (`send_decision`). Used by the stream processor, the CLI, tests and the
benchmark's baseline alike. Both go by the workflow's type and Update names, so callers
never import (or load) the workflow code.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

from schemas import search_attributes
from schemas.complaint_state import ComplaintStatus
from schemas.decisions import COMPLAINT_WORKFLOW, Decision
from schemas.events import ComplaintReceived
from schemas.markers import decision_ref, field_ref
from schemas.outcomes import (
    CONFLICT,
    REFUSED,
    DecisionReceipt,
    Refusal,
    RefusalCode,
    request_digest,
)


class StartOutcome(StrEnum):
    STARTED = "started"
    DUPLICATE = "duplicate"


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
    try:
        await client.start_workflow(
            COMPLAINT_WORKFLOW,
            complaint,
            id=workflow_id_for(complaint.complaint_id),
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(search_attributes.STATUS, ComplaintStatus.RECEIVED.value),
                    SearchAttributePair(search_attributes.PRODUCT, complaint.product.sku),
                    SearchAttributePair(search_attributes.CUSTOMER, complaint.customer.id),
                ]
            ),
            static_summary=f"{complaint.complaint_id}: {complaint.summary[:200]}",
        )
    except WorkflowAlreadyStartedError:
        return StartOutcome.DUPLICATE
    return StartOutcome.STARTED


class DecisionRefusedError(Exception):
    """The complaint's workflow refused the decision; `refusal` says why, with markers."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.plain())
        self.refusal = refusal


class DecisionConflictError(DecisionRefusedError):
    """The update id was already used for another decision or other content."""


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
    handle = client.get_workflow_handle(workflow_id_for(complaint_id))
    try:
        receipt = await handle.execute_update(
            decision.value, request, id=update_id, result_type=DecisionReceipt
        )
    except WorkflowUpdateFailedError as failed:
        raise _refusal_error(failed) from None
    expected = request_digest(decision, request)
    if receipt.request_hash and receipt.request_hash != expected:
        raise DecisionConflictError(
            Refusal(
                code=RefusalCode.CONFLICT,
                complaint_id=complaint_id,
                status=receipt.status,
                decision=decision,
                template=(
                    f"update id {update_id} ({field_ref('update_id')}) was already used for a "
                    f"{decision_ref(receipt.decision)} with other content "
                    f"(audit #{receipt.audit_seq}); nothing was changed: send new content "
                    "with a new update id"
                ),
            )
        )
    return receipt


def _refusal_error(failed: WorkflowUpdateFailedError) -> Exception:
    cause = failed.cause
    if isinstance(cause, ApplicationError) and cause.type in (REFUSED, CONFLICT) and cause.details:
        refusal = Refusal.model_validate(cause.details[0])
        kind = DecisionConflictError if cause.type == CONFLICT else DecisionRefusedError
        return kind(refusal)
    return failed
