"""What the complaint and the improvement workflow harnesses do alike.

Both poll a query until the workflow has caught up, wait for a workflow to go quiet before
terminating it (the time-skipping server locks its clock for good otherwise), save
histories for the replay tests, read the audit log and check that a refused Update left no
trace. Only the query, the refusal model and the histories folder are the kind's own.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

import pytest
from pydantic import BaseModel
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from audit.models import AuditEntry
from audit.store import AuditLog, EntryFilter
from schemas.outcomes import REFUSED

# Wall-clock budgets (seconds) for polling helpers: generous, because a loaded 2-core machine
# is slow, and a poll that gives up by count would fail there for no reason.
WAIT_BUDGET = 60.0
QUIET_BUDGET = 30.0

_UPDATE_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED,
}

StateT = TypeVar("StateT", bound=BaseModel)


class CaseHarness(Generic[StateT]):
    """The shared half of a harness; a subclass sets these and says how to read the state."""

    env: WorkflowEnvironment
    client: Client
    audit_log: AuditLog
    started: list[str]
    histories: Path

    async def state(self, handle: WorkflowHandle[Any, Any]) -> StateT:
        raise NotImplementedError

    async def wait_for(
        self,
        handle: WorkflowHandle[Any, Any],
        until: Callable[[StateT], bool],
        budget: float = WAIT_BUDGET,
    ) -> StateT:
        """Poll the query until the workflow has caught up (no workflow time passes meanwhile;
        the budget is wall-clock seconds, so a busy machine only makes it slower)."""
        deadline = time.monotonic() + budget
        while True:
            state = await self.state(handle)
            if until(state):
                return state
            if time.monotonic() >= deadline:
                status = getattr(state, "status", None)
                raise AssertionError(f"condition never held in {budget} s; last: {status}")
            await asyncio.sleep(0.02)

    async def quiet(self, workflow_id: str, budget: float = QUIET_BUDGET) -> None:
        """Wait until the workflow has no task or activity running (three polls in a row)."""
        quiet_polls, deadline = 0, time.monotonic() + budget
        while time.monotonic() < deadline and quiet_polls < 3:
            try:
                description = await self.client.workflow_service.describe_workflow_execution(
                    DescribeWorkflowExecutionRequest(
                        namespace=self.client.namespace,
                        execution=WorkflowExecution(workflow_id=workflow_id),
                    )
                )
            except RPCError as exc:
                if exc.status is RPCStatusCode.NOT_FOUND:
                    return  # never started
                raise
            busy = bool(description.pending_activities) or description.HasField(
                "pending_workflow_task"
            )
            quiet_polls = 0 if busy else quiet_polls + 1
            await asyncio.sleep(0.03)

    async def terminate(self, workflow_id: str) -> None:
        """Terminate once quiet; one that finished already is fine."""
        await self.quiet(workflow_id)
        try:
            await self.client.get_workflow_handle(workflow_id).terminate("test finished")
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise

    async def record(self, handle: WorkflowHandle[Any, Any], name: str) -> None:
        """Save a finished workflow's history for the replay test, when asked to.

        `CLOSELOOP_RECORD_HISTORIES=1 pytest tests/workflows` rewrites the files; do it only
        for a deliberate, `workflow.patched`-guarded change or a new path to cover."""
        if os.environ.get("CLOSELOOP_RECORD_HISTORIES") != "1":
            return
        history = await handle.fetch_history()
        self.histories.mkdir(parents=True, exist_ok=True)
        (self.histories / f"{name}.json").write_text(history.to_json(), encoding="utf-8")

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def skip(self, duration: timedelta) -> None:
        await self.env.sleep(duration)

    def entries(self, case_id: str) -> list[AuditEntry]:
        return self.audit_log.entries(EntryFilter(complaint_id=case_id))

    def entry_types(self, case_id: str) -> list[str]:
        return [entry.entry_type for entry in self.entries(case_id)]

    async def refused_without_trace(
        self, handle: WorkflowHandle[Any, Any], update: str, request: Any, case_id: str
    ) -> ApplicationError:
        """Send an illegal decision; assert it left no trace in history or the audit log;
        return the REFUSED error (its details are the kind's refusal)."""
        before = len(self.entries(case_id))
        update_id = f"refused-{uuid.uuid4()}"
        with pytest.raises(WorkflowUpdateFailedError) as raised:
            await handle.execute_update(update, request, id=update_id)
        history = await handle.fetch_history()
        traces = [
            event
            for event in history.events
            if event.event_type in _UPDATE_EVENTS and update_id in str(event)
        ]
        assert traces == [], f"refused update {update_id} left history events: {traces}"
        assert len(self.entries(case_id)) == before, "refused update wrote to the audit log"
        cause = raised.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == REFUSED
        return cause
