"""A harness for improvement workflows on the time-skipping server.

The workflow runs on a real worker with the real audit activity and the real KPI activity
(`kpi.measure`) against a real SQLite audit log; the complaints whose figure the check
measures are written to that log as `complaint.received` entries, as intake writes them.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowHandle,
)
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.audit import AuditActivities
from activities.policy import PolicyActivities
from audit.models import NewEntry
from audit.store import AuditLog
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
from tests.workflows.case_harness import CaseHarness
from tests.workflows.conftest import BARE_NAME
from workflows.capa import CapaActionWorkflow
from workflows.improvement import ImprovementWorkflow

HISTORIES = Path(__file__).parent / "histories" / "improvements"
QUALITY_MANAGER = Actor(id="qm.lee", name="Lee Quality")
ENGINEER = Actor(id="eng.park", name="Jo Park")
PRODUCT = "KET-200"
WEEK = timedelta(days=7)


class Improvements(CaseHarness[ImprovementState]):
    """Open improvements, send decisions, read state and audit entries, seed complaints."""

    def __init__(
        self,
        env: WorkflowEnvironment,
        audit_log: AuditLog,
        home: Path,
        policy: ImprovementPolicy | None = None,
    ) -> None:
        self.env = env
        self.histories = HISTORIES
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
        cause = await self.refused_without_trace(handle, decision.value, request, improvement_id)
        refusal = ImprovementRefusal.model_validate(cause.details[0])
        assert refusal.plain() == cause.message and refusal.improvement_id == improvement_id
        assert not BARE_NAME.search(refusal.template), refusal.template
        return refusal

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
                await self.terminate(child)


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
