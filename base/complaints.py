"""Starting a complaint's workflow: the one place that decides how a complaint becomes a case.

Used by the stream processor, the CLI, tests and the benchmark's baseline alike. It starts
the workflow by its type name, so callers never import (or load) the workflow code.
"""

from __future__ import annotations

from enum import StrEnum

from temporalio.client import Client
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from schemas import search_attributes
from schemas.complaint_state import ComplaintStatus
from schemas.decisions import COMPLAINT_WORKFLOW
from schemas.events import ComplaintReceived


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
