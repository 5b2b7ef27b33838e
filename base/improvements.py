"""Opening an improvement's workflow and sending it decisions, by name.

Like `base.complaints` for complaints: the CLI, tests and any system that opens an
improvement from a trend signal go through here, by the workflow's type and Update names,
so they never import the workflow code.
"""

from __future__ import annotations

from pydantic import BaseModel
from temporalio.client import Client
from temporalio.common import SearchAttributePair, TypedSearchAttributes

from base.decision_update import DecisionKind, RefusedError, execute_decision
from base.start_once import StartOutcome, start_once
from schemas import search_attributes
from schemas.improvement import (
    IMPROVEMENT_STATE_QUERY,
    IMPROVEMENT_WORKFLOW,
    ImprovementDecision,
    ImprovementReceipt,
    ImprovementRefusal,
    ImprovementState,
    ImprovementStatus,
    OpenImprovement,
    improvement_workflow_id,
)

__all__ = [
    "ImprovementConflictError",
    "ImprovementRefusedError",
    "StartOutcome",
    "current_state",
    "open_improvement",
    "opening_search_attributes",
    "opening_summary",
    "send_decision",
]


def opening_search_attributes(opened: OpenImprovement) -> TypedSearchAttributes:
    """What operators filter a new improvement by; the trend workflow starts its children
    with the same, so an improvement looks alike however it was opened."""
    filters = opened.measure.filters
    pairs = [
        SearchAttributePair(search_attributes.STATUS, ImprovementStatus.PLANNING.value),
        SearchAttributePair(search_attributes.ASSIGNEE, opened.owner),
    ]
    if filters.get("product"):
        pairs.append(SearchAttributePair(search_attributes.PRODUCT, filters["product"]))
    return TypedSearchAttributes(pairs)


def opening_summary(opened: OpenImprovement) -> str:
    return f"{opened.improvement_id}: {opened.problem[:200]}"


async def open_improvement(
    client: Client, task_queue: str, opened: OpenImprovement
) -> StartOutcome:
    """Start the improvement's workflow unless one ever existed with this id (an improvement
    that was standardised is not opened again under its id: open a new one)."""
    return await start_once(
        client,
        IMPROVEMENT_WORKFLOW,
        opened,
        workflow_id=improvement_workflow_id(opened.improvement_id),
        task_queue=task_queue,
        search_attributes=opening_search_attributes(opened),
        static_summary=opening_summary(opened),
    )


class ImprovementRefusedError(RefusedError[ImprovementRefusal]):
    """The improvement's workflow refused the decision; `refusal` says why, with markers."""

    def __init__(self, refusal: ImprovementRefusal) -> None:
        super().__init__(refusal.plain())
        self.refusal = refusal


class ImprovementConflictError(ImprovementRefusedError):
    """The update id was already used for another decision or other content."""


_IMPROVEMENT = DecisionKind(
    receipt=ImprovementReceipt,
    refusal=ImprovementRefusal,
    id_field="improvement_id",
    refused=ImprovementRefusedError,
    conflict=ImprovementConflictError,
)


async def send_decision(
    client: Client,
    improvement_id: str,
    decision: ImprovementDecision,
    request: BaseModel,
    *,
    update_id: str,
) -> ImprovementReceipt:
    """Send one decision as a Temporal Update (by name) and return its receipt; a retry with
    the same update id and content returns the first receipt (see `base.complaints`)."""
    return await execute_decision(
        client,
        _IMPROVEMENT,
        improvement_workflow_id(improvement_id),
        improvement_id,
        decision,
        request,
        update_id=update_id,
    )


async def current_state(client: Client, improvement_id: str) -> ImprovementState:
    handle = client.get_workflow_handle(improvement_workflow_id(improvement_id))
    return await handle.query(IMPROVEMENT_STATE_QUERY, result_type=ImprovementState)
