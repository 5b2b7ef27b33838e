"""Starting a case's workflow once per id, whichever kind of case it is.

A complaint and an improvement are started alike: by the workflow's type name, never
again under an id that ever ran (REJECT_DUPLICATE: a replayed or late request must not
reopen a closed case), and a running duplicate is an error we recognise (FAIL) rather
than a silent attach. The callers say what to start; the policy is decided here once.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel
from temporalio.client import Client
from temporalio.common import (
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError


class StartOutcome(StrEnum):
    STARTED = "started"
    DUPLICATE = "duplicate"


async def start_once(
    client: Client,
    workflow: str,
    argument: BaseModel,
    *,
    workflow_id: str,
    task_queue: str,
    search_attributes: TypedSearchAttributes,
    static_summary: str,
) -> StartOutcome:
    """Start `workflow` with `argument` under `workflow_id` unless one ever existed."""
    try:
        await client.start_workflow(
            workflow,
            argument,
            id=workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            search_attributes=search_attributes,
            static_summary=static_summary,
        )
    except WorkflowAlreadyStartedError:
        return StartOutcome.DUPLICATE
    return StartOutcome.STARTED
