"""A harness for improvement workflows on the time-skipping server.

The workflow runs on a real worker with the real audit activity and the real KPI activity
(`kpi.measure`) against a real SQLite audit log; the complaints whose figure the check
measures are written to that log as `complaint.received` entries, as intake writes them.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.audit import AuditActivities
from activities.policy import PolicyActivities
from audit.models import AuditEntry, NewEntry
from audit.store import AuditLog, EntryFilter
from base import improvements
from kpi.measure import KpiActivities
from schemas.deadlines import DeadlinePolicy, ImprovementPolicy
from schemas.decisions import Actor, CapaActionPlan, CapaKind
from schemas.improvement import (
    IMPROVEMENT_STATE_QUERY,
    CheckInput,
    CompleteImprovementActionInput,
    GoRoundAgainInput,
    ImprovementDecision,
    ImprovementReceipt,
    ImprovementRefusal,
    ImprovementState,
    Measure,
    OpenImprovement,
    PlanInput,
    StandardiseInput,
    improvement_workflow_id,
)
from schemas.outcomes import REFUSED
from tests.workflows.conftest import BARE_NAME, QUIET_BUDGET, WAIT_BUDGET
from workflows.capa import CapaActionWorkflow
from workflows.improvement import ImprovementWorkflow

HISTORIES = Path(__file__).parent / "histories" / "improvements"
QUALITY_MANAGER = Actor(id="qm.lee", name="Lee Quality")
ENGINEER = Actor(id="eng.park", name="Jo Park")
PRODUCT = "KET-200"
WEEK = timedelta(days=7)


class Improvements:
    """Open improvements, send decisions, read state and audit entries, seed complaints."""

    def __init__(
        self,
        env: WorkflowEnvironment,
        audit_log: AuditLog,
        home: Path,
        policy: ImprovementPolicy | None = None,
    ) -> None:
        self.env = env
        self.policy = policy or ImprovementPolicy()  # what the worker is configured with
        self.client: Client = env.client
        self.audit_log = audit_log
        self.home = home
        self.task_queue = f"improvements-{uuid.uuid4().hex[:8]}"
        self.started: list[str] = []

    def worker(self, executor: ThreadPoolExecutor) -> Worker:
        return Worker(
            self.client,
            task_queue=self.task_queue,
            workflows=[ImprovementWorkflow, CapaActionWorkflow],
            activities=[
                AuditActivities(self.audit_log).record_audit_entry,
                KpiActivities(self.audit_log, self.home).measure_kpi_figure,
                PolicyActivities(DeadlinePolicy(), self.policy).load_improvement_policy,
            ],
            activity_executor=executor,
        )

    # -- the complaints the figure counts ----------------------------------------------------

    def received(self, at: datetime, product: str = PRODUCT, count: int = 1) -> None:
        """`count` complaints about `product`, received upstream at `at`."""
        for _ in range(count):
            complaint_id = f"C-{uuid.uuid4().hex[:10]}"
            self.audit_log.append(
                NewEntry(
                    complaint_id=complaint_id,
                    entry_type="complaint.received",
                    actor="web-shop",
                    occurred_at=at,
                    idempotency_key=f"{complaint_id}:complaint.received",
                    data={
                        "source": "web-shop",
                        "channel": "web",
                        "product_sku": product,
                        "received_upstream_at": at.isoformat(),
                    },
                )
            )

    # -- the improvement -------------------------------------------------------------------

    async def open(self, **changes: Any) -> WorkflowHandle[Any, ImprovementState]:
        fields: dict[str, Any] = {
            "improvement_id": f"IMP-{uuid.uuid4().hex[:8]}",
            "opened_by": QUALITY_MANAGER,
            "owner": ENGINEER.id,
            "problem": "Kettle switch complaints doubled since supplier lot 41",
            "signal_id": "SIG-c-chart-KET-200-2026-11",
            "complaint_ids": ["C-1001", "C-1002"],
            "measure": Measure(
                figure="complaints_received",
                filters={"product": PRODUCT},
                periods=2,
                period=WEEK,
            ),
        }
        fields.update(changes)
        opened = OpenImprovement(**fields)
        outcome = await improvements.open_improvement(self.client, self.task_queue, opened)
        assert outcome is improvements.StartOutcome.STARTED
        workflow_id = improvement_workflow_id(opened.improvement_id)
        self.started.append(workflow_id)
        handle = self.client.get_workflow_handle(workflow_id, result_type=ImprovementState)
        await self.wait_for(handle, lambda s: len(s.history) >= 1)
        return handle

    async def state(self, handle: WorkflowHandle[Any, Any]) -> ImprovementState:
        return await handle.query(IMPROVEMENT_STATE_QUERY, result_type=ImprovementState)

    async def wait_for(
        self, handle: WorkflowHandle[Any, Any], until: Any, budget: float = WAIT_BUDGET
    ) -> ImprovementState:
        deadline = time.monotonic() + budget
        while True:
            state = await self.state(handle)
            if until(state):
                return state
            if time.monotonic() >= deadline:
                raise AssertionError(f"condition never held in {budget} s; last: {state.status}")
            await asyncio.sleep(0.02)

    async def send(
        self,
        handle: WorkflowHandle[Any, Any],
        decision: ImprovementDecision,
        request: BaseModel,
        *,
        id: str | None = None,
    ) -> ImprovementReceipt:
        return await improvements.send_decision(
            self.client,
            _improvement_id(handle),
            decision,
            request,
            update_id=id or str(uuid.uuid4()),
        )

    async def refused(
        self, handle: WorkflowHandle[Any, Any], decision: ImprovementDecision, request: BaseModel
    ) -> ImprovementRefusal:
        """Send an illegal decision; assert it left no trace in history or the audit log."""
        improvement_id = _improvement_id(handle)
        before = len(self.entries(improvement_id))
        update_id = f"refused-{uuid.uuid4()}"
        with pytest.raises(WorkflowUpdateFailedError) as raised:
            await handle.execute_update(decision.value, request, id=update_id)
        history = await handle.fetch_history()
        update_events = {
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED,
            EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ADMITTED,
        }
        traces = [
            e for e in history.events if e.event_type in update_events and update_id in str(e)
        ]
        assert traces == [], f"refused update {update_id} left history events: {traces}"
        assert len(self.entries(improvement_id)) == before, "a refusal wrote to the audit log"
        cause = raised.value.cause
        assert isinstance(cause, ApplicationError) and cause.type == REFUSED
        refusal = ImprovementRefusal.model_validate(cause.details[0])
        assert refusal.plain() == cause.message and refusal.improvement_id == improvement_id
        assert not BARE_NAME.search(refusal.template), refusal.template
        return refusal

    def entries(self, improvement_id: str) -> list[AuditEntry]:
        return self.audit_log.entries(EntryFilter(complaint_id=improvement_id))

    def entry_types(self, improvement_id: str) -> list[str]:
        return [entry.entry_type for entry in self.entries(improvement_id)]

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def skip(self, duration: timedelta) -> None:
        await self.env.sleep(duration)

    async def record(self, handle: WorkflowHandle[Any, Any], name: str) -> None:
        """`CLOSELOOP_RECORD_HISTORIES=1` saves the finished history for the replay test."""
        if os.environ.get("CLOSELOOP_RECORD_HISTORIES") != "1":
            return
        history = await handle.fetch_history()
        HISTORIES.mkdir(parents=True, exist_ok=True)
        (HISTORIES / f"{name}.json").write_text(history.to_json(), encoding="utf-8")

    async def terminate_running(self) -> None:
        """A workflow left without its worker would hold the shared server's clock still, and
        so would a CAPA child left to signal a parent that is gone; the test server also
        locks its clock for good when a workflow is terminated mid-task, so wait for quiet."""
        for workflow_id in self.started:
            handle = self.client.get_workflow_handle(workflow_id)
            try:
                state = await self.state(handle)
            except RPCError:
                state = None
            children = [a.workflow_id for a in state.actions] if state else []
            for child in [*children, workflow_id]:
                await self.quiet(child)
                try:
                    await self.client.get_workflow_handle(child).terminate("test finished")
                except RPCError as exc:
                    if exc.status is not RPCStatusCode.NOT_FOUND:  # finished already
                        raise

    async def quiet(self, workflow_id: str, budget: float = QUIET_BUDGET) -> None:
        quiet_polls, deadline = 0, time.monotonic() + budget
        while time.monotonic() < deadline and quiet_polls < 3:
            try:
                description = await self.client.workflow_service.describe_workflow_execution(
                    DescribeWorkflowExecutionRequest(
                        namespace=self.client.namespace,
                        execution=WorkflowExecution(workflow_id=workflow_id),
                    )
                )
            except RPCError:
                return  # never started
            busy = bool(description.pending_activities) or description.HasField(
                "pending_workflow_task"
            )
            quiet_polls = 0 if busy else quiet_polls + 1
            await asyncio.sleep(0.03)


def _improvement_id(handle: WorkflowHandle[Any, Any]) -> str:
    return handle.id.removeprefix("improvement/")


class Make:
    """Realistic improvement decisions; every field can be overridden."""

    @staticmethod
    def action(action_id: str, due_at: datetime, **changes: Any) -> CapaActionPlan:
        fields: dict[str, Any] = {
            "id": action_id,
            "description": f"Tighten incoming inspection ({action_id})",
            "kind": CapaKind.PREVENTIVE,
            "owner": ENGINEER.id,
            "due_at": due_at,
        }
        return CapaActionPlan(**{**fields, **changes})

    @staticmethod
    def plan(*actions: CapaActionPlan, **changes: Any) -> PlanInput:
        fields: dict[str, Any] = {
            "actor": QUALITY_MANAGER,
            "plan": "Inspect 1 in 50 thermostats from the supplier instead of 1 in 500",
            "actions": list(actions),
        }
        return PlanInput(**{**fields, **changes})

    @staticmethod
    def complete(action_id: str, **changes: Any) -> CompleteImprovementActionInput:
        fields: dict[str, Any] = {
            "actor": ENGINEER,
            "action_id": action_id,
            "evidence": [f"qms://wi/{action_id}"],
            "summary": "Done",
        }
        return CompleteImprovementActionInput(**{**fields, **changes})

    @staticmethod
    def check(**changes: Any) -> CheckInput:
        return CheckInput(**{"actor": QUALITY_MANAGER, **changes})

    @staticmethod
    def standardise(**changes: Any) -> StandardiseInput:
        fields = {"actor": QUALITY_MANAGER, "standard": "WI-114 rev C: inspect 1 in 50"}
        return StandardiseInput(**{**fields, **changes})

    @staticmethod
    def again(**changes: Any) -> GoRoundAgainInput:
        fields = {"actor": QUALITY_MANAGER, "reason": "No fewer complaints: the cause is elsewhere"}
        return GoRoundAgainInput(**{**fields, **changes})
