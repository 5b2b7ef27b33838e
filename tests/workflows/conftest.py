"""A harness for complaint workflows on the time-skipping server.

The workflows run on a real worker with the REAL audit activity against a real SQLite audit
log and the real deadline-policy activity. Only the Kafka publisher is replaced, by an
in-memory recorder registered under the same activity name: these are unit tests of the
workflow, and the end-to-end tests publish to the real broker.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from temporalio import activity
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.audit import AuditActivities
from activities.customer_messages import MessageActivities
from activities.policy import PolicyActivities
from activities.similarity import SimilarityActivities
from audit.similarity_index import SimilarityTable
from audit.store import AuditLog
from base.complaints import send_decision, start_complaint
from schemas import search_attributes
from schemas.complaint_state import ComplaintState
from schemas.customer_message import CustomerMessage, MessagePolicy
from schemas.deadlines import DeadlinePolicy
from schemas.decisions import (
    Actor,
    CapaActionPlan,
    CapaKind,
    CloseInput,
    CompleteActionInput,
    Decision,
    InvestigateInput,
    InvestigationMethod,
    PlanCapaInput,
    RejectInput,
    RejectReason,
    Severity,
    TriageInput,
    VerifyInput,
)
from schemas.events import Channel, ComplaintReceived, Customer, Product
from schemas.outcomes import DecisionReceipt, Refusal
from schemas.status_event import ComplaintStatusEvent
from tests.workflows.case_harness import CaseHarness
from workflows.capa import CapaActionWorkflow
from workflows.complaint import ComplaintWorkflow

WORKFLOWS = [ComplaintWorkflow, CapaActionWorkflow]
HISTORIES = Path(__file__).parent / "histories"

# A field or decision name outside a {field:..}/{decision:..} marker: what a user never typed.
BARE_NAME = re.compile(
    r"(?<![{:])\b(?:"
    + "|".join(
        [d.value for d in Decision if "_" in d.value]
        + ["override_wait_reason", "action_id", "new_due_at", "aware_at", "submitted_at"]
        + ["verification_wait", "duplicate_of", "expected_state_hash", "method_detail"]
    )
    + r")\b(?!})"
)

HANDLER = Actor(id="qe.smith", name="Sam Smith")
MANAGER = Actor(id="qm.lee", name="Lee Quality")
OWNER = Actor(id="eng.park", name="Jo Park")
VERIFIER = Actor(id="qa.ruiz", name="Ana Ruiz")


class RecordingMessages(MessageActivities):
    """The real policy, rendering and survey codes; only publishing is kept in memory."""

    def __init__(self, policy: MessagePolicy) -> None:
        super().__init__(policy, "unused:9092")
        self.messages: list[CustomerMessage] = []

    @activity.defn(name="publish_customer_message")
    def record_customer_message(self, message: CustomerMessage) -> None:
        self.messages.append(message)

    def for_complaint(self, complaint_id: str) -> list[CustomerMessage]:
        return [m for m in self.messages if m.complaint_id == complaint_id]


class RecordingPublisher:
    """Test double for the Kafka publisher: keeps the events in memory, in order."""

    def __init__(self) -> None:
        self.events: list[ComplaintStatusEvent] = []

    @activity.defn(name="publish_status_event")
    def publish_status_event(self, event: ComplaintStatusEvent) -> None:
        self.events.append(event)

    def for_complaint(self, complaint_id: str) -> list[ComplaintStatusEvent]:
        return [e for e in self.events if e.complaint_id == complaint_id]


def complaint(complaint_id: str | None = None, **changes: Any) -> ComplaintReceived:
    fields: dict[str, Any] = {
        "event_id": uuid.uuid4(),
        "occurred_at": datetime.now(UTC),
        "source": "web-shop",
        "complaint_id": complaint_id or f"C-{uuid.uuid4().hex[:10]}",
        "customer": Customer(id="CUST-88123", name="Ada Example", email="ada@example.com"),
        "product": Product(sku="KET-200", name="Electric kettle", lot="L2026-41"),
        "channel": Channel.WEB,
        "summary": "Kettle switch does not turn off when the water boils",
        "description": "It kept boiling until I unplugged it.",
    }
    fields.update(changes)
    return ComplaintReceived(**fields)


class Harness(CaseHarness[ComplaintState]):
    """Start complaints, send decisions, read state, audit entries and status events."""

    def __init__(
        self,
        env: WorkflowEnvironment,
        task_queue: str,
        audit_log: AuditLog,
        publisher: RecordingPublisher,
        policy: DeadlinePolicy,
        messages: MessagePolicy | None = None,
    ) -> None:
        self.env = env
        self.histories = HISTORIES
        self.policy = policy
        self.messages = RecordingMessages(messages or MessagePolicy(enabled=False))
        self.started: list[str] = []
        self.client: Client = env.client
        self.task_queue = task_queue
        self.audit_log = audit_log
        self.publisher = publisher
        self.last_receipt: DecisionReceipt | None = None
        self.last_refusal: Refusal | None = None

    def worker(self, executor: ThreadPoolExecutor, **options: Any) -> Worker:
        """A worker with the real audit and policy activities and the recording publisher."""
        return Worker(
            self.client,
            task_queue=self.task_queue,
            workflows=WORKFLOWS,
            activities=[
                AuditActivities(self.audit_log).record_audit_entry,
                self.publisher.publish_status_event,
                PolicyActivities(self.policy).load_deadline_policy,
                self.messages.load_message_policy,
                self.messages.render_customer_message,
                self.messages.new_survey_code,
                self.messages.record_customer_message,
                SimilarityActivities(
                    SimilarityTable(self.audit_log.engine)
                ).find_similar_complaints,
            ],
            activity_executor=executor,
            **options,
        )

    async def start(self, **changes: Any) -> WorkflowHandle[ComplaintWorkflow, ComplaintState]:
        received = complaint(**changes)
        await start_complaint(self.client, self.task_queue, received)
        self.started.append(received.complaint_id)
        handle: WorkflowHandle[ComplaintWorkflow, ComplaintState] = self.client.get_workflow_handle(
            received.complaint_id, result_type=ComplaintState
        )
        entries = 2 if self.policy.auto_acknowledge else 1  # received (+ acknowledged)
        await self.wait_for(handle, lambda s: len(s.history) >= entries)
        return handle

    async def terminate_running(self) -> None:
        """A workflow left without its worker would hold the shared server's clock still.

        The test server also keeps its clock locked for good when a workflow is terminated
        while a workflow task or activity of it runs, so wait for quiet first."""
        for workflow_id in self.started:
            await self.terminate(workflow_id)

    async def send(
        self,
        handle: WorkflowHandle[Any, Any],
        decision: Decision,
        request: BaseModel,
        *,
        id: str | None = None,
    ) -> DecisionReceipt:
        """Send a decision the way every client does (by name) and return its receipt."""
        return await send_decision(
            self.client, handle.id, decision, request, update_id=id or str(uuid.uuid4())
        )

    async def decide(
        self,
        handle: WorkflowHandle[Any, Any],
        decision: Decision,
        request: BaseModel,
        *,
        id: str | None = None,
    ) -> ComplaintState:
        """Send a decision, then read the complaint's full state by query."""
        self.last_receipt = await self.send(handle, decision, request, id=id)
        return await self.state(handle)

    async def state(self, handle: WorkflowHandle[Any, Any]) -> ComplaintState:
        return await handle.query(ComplaintWorkflow.current_state)

    async def result(self, handle: WorkflowHandle[Any, ComplaintState]) -> ComplaintState:
        """Skip past the retention period of a closed or rejected case; its workflow ends."""
        await self.env.sleep(self.policy.retention_after_close + timedelta(days=1))
        return await handle.result()

    def events(self, complaint_id: str) -> list[ComplaintStatusEvent]:
        return self.publisher.for_complaint(complaint_id)

    async def refused(
        self, handle: WorkflowHandle[Any, Any], update: Decision, request: Any
    ) -> str:
        """Send an illegal decision; assert it left no trace; return the refusal's reason."""
        complaint_id = handle.id
        cause = await self.refused_without_trace(handle, update, request, complaint_id)
        refusal = Refusal.model_validate(cause.details[0])
        assert refusal.plain() == cause.message and refusal.complaint_id == complaint_id
        assert not BARE_NAME.search(refusal.template), refusal.template
        self.last_refusal = refusal
        return cause.message


@pytest.fixture(scope="module")
async def search_attributes_registered(time_skipping_env: WorkflowEnvironment) -> None:
    """The test server does not list search attributes, but it does add them."""
    request = AddSearchAttributesRequest(
        namespace=time_skipping_env.client.namespace,
        search_attributes={
            key.name: IndexedValueType.ValueType(int(key.indexed_value_type))
            for key in search_attributes.ALL
        },
    )
    try:
        await time_skipping_env.client.operator_service.add_search_attributes(request)
    except RPCError as exc:
        if exc.status is not RPCStatusCode.ALREADY_EXISTS:
            raise


@pytest.fixture
def policy() -> DeadlinePolicy:
    """The deadline policy the worker hands to new complaints; tests may override it."""
    return DeadlinePolicy()


@pytest.fixture
def message_policy() -> MessagePolicy:
    """Messages to the complainant are off here, so the other workflow tests see the audit
    trail they specify; tests/workflows/test_messages.py turns them on."""
    return MessagePolicy(enabled=False)


@pytest.fixture
async def detached_harness(
    time_skipping_env: WorkflowEnvironment,
    search_attributes_registered: None,
    sqlite_url: str,
    policy: DeadlinePolicy,
    message_policy: MessagePolicy,
) -> AsyncIterator[Harness]:
    """A harness whose test runs its own workers (`harness.worker(executor)`)."""
    audit_log = AuditLog.from_url(sqlite_url)
    task_queue = f"complaints-{uuid.uuid4().hex[:8]}"
    yield Harness(
        time_skipping_env, task_queue, audit_log, RecordingPublisher(), policy, message_policy
    )
    audit_log.engine.dispose()


@pytest.fixture
async def harness(detached_harness: Harness) -> AsyncIterator[Harness]:
    """A harness with a worker running for the whole test."""
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with detached_harness.worker(executor):
            try:
                yield detached_harness
            finally:
                await detached_harness.terminate_running()


class Make:
    """Realistic decision inputs; every field can be overridden."""

    handler, manager, owner, verifier = HANDLER, MANAGER, OWNER, VERIFIER

    @staticmethod
    def triage(**changes: Any) -> TriageInput:
        fields: dict[str, Any] = {
            "actor": HANDLER,
            "comment": "Overheating risk",
            "severity": Severity.HIGH,
            "category": "product-safety",
            "risk_rationale": "Continuous boiling can overheat the base",
            "assignee": HANDLER.id,
            "reportable": False,
            "reportable_justification": "No injury, no malfunction likely to cause one",
        }
        return TriageInput(**{**fields, **changes})

    @staticmethod
    def investigate(**changes: Any) -> InvestigateInput:
        fields: dict[str, Any] = {
            "actor": HANDLER,
            "method": InvestigationMethod.FIVE_WHYS,
            "root_causes": ["Thermostat bimetal strip out of tolerance (supplier lot 41)"],
            "contributing_factors": ["Incoming inspection samples 1 in 500"],
            "evidence": ["lab://reports/LR-2207"],
        }
        return InvestigateInput(**{**fields, **changes})

    @staticmethod
    def action(action_id: str, due_at: datetime, **changes: Any) -> CapaActionPlan:
        fields: dict[str, Any] = {
            "id": action_id,
            "description": f"Action {action_id}",
            "kind": CapaKind.CORRECTIVE,
            "owner": OWNER.id,
            "due_at": due_at,
        }
        return CapaActionPlan(**{**fields, **changes})

    @staticmethod
    def plan(*actions: CapaActionPlan, **changes: Any) -> PlanCapaInput:
        return PlanCapaInput(**{"actor": MANAGER, "actions": list(actions), **changes})

    @staticmethod
    def complete(action_id: str, **changes: Any) -> CompleteActionInput:
        fields: dict[str, Any] = {
            "actor": OWNER,
            "action_id": action_id,
            "evidence": [f"erp://ncr/{action_id}"],
            "summary": "Done",
        }
        return CompleteActionInput(**{**fields, **changes})

    @staticmethod
    def verify(**changes: Any) -> VerifyInput:
        fields: dict[str, Any] = {
            "actor": VERIFIER,
            "effective": True,
            "evidence": ["qms://audit/VE-19"],
        }
        return VerifyInput(**{**fields, **changes})

    @staticmethod
    def reject(**changes: Any) -> RejectInput:
        fields: dict[str, Any] = {
            "actor": HANDLER,
            "reason": RejectReason.NOT_A_COMPLAINT,
            "explanation": "A question about the warranty",
        }
        return RejectInput(**{**fields, **changes})

    @staticmethod
    def close(**changes: Any) -> CloseInput:
        fields: dict[str, Any] = {
            "actor": MANAGER,
            "customer_response": "We replaced your kettle and fixed the cause.",
        }
        return CloseInput(**{**fields, **changes})


@pytest.fixture
def make() -> Make:
    return Make()
