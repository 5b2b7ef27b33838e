"""`closeloop complaint reject --customer-response` tells the complainant; `complaint show`
lists the messages to the complainant (text and `--json`), never their address.

On the time-skipping server with a real worker: the real audit activity (SQLite), the real
message policy and templates; publishing messages and status events is kept in memory.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import Result
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.audit import AuditActivities
from activities.customer_messages import MessageActivities
from activities.policy import PolicyActivities
from activities.similarity import SimilarityActivities
from audit.similarity_index import SimilarityTable
from audit.store import AuditLog, EntryFilter
from base.complaints import start_complaint
from closeloop.cli.complaint.screen import messages_text
from schemas.complaint_state import ComplaintState, ComplaintStatus
from schemas.customer_message import CustomerMessage, MessagePolicy, MessagePurpose, MessageRecord
from schemas.deadlines import DeadlinePolicy
from schemas.events import Channel, ComplaintReceived, Customer, Product
from schemas.status_event import ComplaintStatusEvent
from tests.closeloop.cli.harness import invoke, json_output, register_search_attributes
from workflows.capa import CapaActionWorkflow
from workflows.complaint import ComplaintWorkflow

ACTOR = ["--actor", "qe.smith", "--actor-name", "Sam Smith"]
EMAIL, ADDRESS = "jane.roe@example.com", "12 Main St, Boston"
TOLD = "Please write to your retailer, who handles warranty questions."
REASON = "Internal: reseller testing the hotline"


@activity.defn(name="publish_status_event")
def discard_status_event(event: ComplaintStatusEvent) -> None:
    """Kafka is out of scope here."""


class Messages(MessageActivities):
    """The real policy and templates; published messages are kept in memory."""

    def __init__(self) -> None:
        super().__init__(MessagePolicy(language="en"), "unused:9092")
        self.sent: list[CustomerMessage] = []

    @activity.defn(name="publish_customer_message")
    def keep(self, message: CustomerMessage) -> None:
        self.sent.append(message)


def received() -> ComplaintReceived:
    return ComplaintReceived(
        event_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        source="call-centre",
        complaint_id=f"C-MSG-{uuid.uuid4().hex[:8]}",
        customer=Customer(id="CUST-7", name="Jane Roe", email=EMAIL, address=ADDRESS),
        product=Product(sku="KET-200", name="Kettle", lot="L41"),
        channel=Channel.PHONE,
        summary="Switch does not turn off",
        description="",
    )


class Cli:
    def __init__(self, env: WorkflowEnvironment, task_queue: str, database_url: str) -> None:
        self.env, self.task_queue = env, task_queue
        self.audit_log = AuditLog.from_url(database_url)
        self.messages = Messages()
        self.environ = {
            "CLOSELOOP_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
            "CLOSELOOP_DATABASE_URL": database_url,
            "CLOSELOOP_LOG_FORMAT": "console",
            "CLOSELOOP_DEV_UNAUTHENTICATED": "true",
        }

    async def run(self, *args: str) -> Result:
        return await invoke(["complaint", *args], self.environ)

    async def start(self) -> str:
        complaint = received()
        await start_complaint(self.env.client, self.task_queue, complaint)
        await self.state_when(complaint.complaint_id, lambda s: len(s.messages) >= 1)
        return complaint.complaint_id

    async def state_when(self, complaint_id: str, ready) -> ComplaintState:
        handle = self.env.client.get_workflow_handle(complaint_id, result_type=ComplaintState)
        for _ in range(1000):
            state = await handle.query(ComplaintWorkflow.current_state)
            if ready(state):
                return state
            await asyncio.sleep(0.02)
        raise AssertionError(f"{complaint_id} never got there")


@pytest.fixture
async def cli(time_skipping_env: WorkflowEnvironment, sqlite_url: str) -> AsyncIterator[Cli]:
    await register_search_attributes(time_skipping_env.client)
    task_queue = f"cli-msg-{uuid.uuid4().hex[:8]}"
    cli = Cli(time_skipping_env, task_queue, sqlite_url)
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with Worker(
            time_skipping_env.client,
            task_queue=task_queue,
            workflows=[ComplaintWorkflow, CapaActionWorkflow],
            activities=[
                AuditActivities(cli.audit_log).record_audit_entry,
                discard_status_event,
                PolicyActivities(DeadlinePolicy()).load_deadline_policy,
                cli.messages.load_message_policy,
                cli.messages.render_customer_message,
                cli.messages.new_survey_code,
                cli.messages.keep,
                SimilarityActivities(SimilarityTable(cli.audit_log.engine)).find_similar_complaints,
            ],
            activity_executor=executor,
        ):
            yield cli


def messages_block(output: str) -> str:
    """The 'Messages to the complainant' block of `show`, up to the history."""
    start = output.index("Messages to the complainant")
    return output[start : output.index("history", start)]


@pytest.mark.clause("ISO 10002:2018 7.8")
async def test_reject_with_a_customer_response_tells_the_complainant_and_show_lists_it(cli):
    complaint_id = await cli.start()
    result = await cli.run(
        "reject",
        complaint_id,
        *ACTOR,
        "--not-a-complaint",
        "--reason",
        REASON,
        "--customer-response",
        TOLD,
    )
    assert result.exit_code == 0, result.output
    state = await cli.state_when(complaint_id, lambda s: len(s.messages) >= 2)
    ack, rejection = state.messages
    assert rejection.message_id == f"{complaint_id}:rejection:1"
    [sent] = [m for m in cli.messages.sent if m.message_id == rejection.message_id]
    assert TOLD in sent.body and REASON not in sent.body
    [produced] = cli.audit_log.entries(
        EntryFilter(complaint_id=complaint_id, entry_type="complaint.message_produced")
    )[1:]
    assert produced.data["content_hash"] == rejection.content_hash == sent.content_hash

    result = await cli.run("show", complaint_id)
    assert result.exit_code == 0, result.output
    block = messages_block(result.output)
    text = " ".join(block.split())
    for record in (ack, rejection):
        assert f"{record.purpose.value} 1 {record.language} {record.template_id} produced" in text
        assert f"content hash {record.content_hash}" in text
    assert "no delivery report yet" in text
    assert EMAIL not in block and ADDRESS not in block and "Jane Roe" not in block

    result = await cli.run("show", complaint_id, "--json")
    document = json_output(result)
    listed = document["messages"]
    assert [m["message_id"] for m in listed] == [ack.message_id, rejection.message_id]
    assert listed[1] == {
        "message_id": rejection.message_id,
        "purpose": "rejection",
        "sequence": 1,
        "template_id": rejection.template_id,
        "language": "en",
        "content_hash": rejection.content_hash,
        "produced_at": listed[1]["produced_at"],
        "delivered_at": None,
        "failed_at": None,
        "failure": "",
    }
    assert EMAIL not in json.dumps(listed) and ADDRESS not in json.dumps(listed)
    assert document["rejection"]["customer_response"] == TOLD


@pytest.mark.clause("ISO 10002:2018 7.8")
async def test_reject_as_a_duplicate_without_a_response_names_the_earlier_complaint(cli):
    earlier = await cli.start()
    complaint_id = await cli.start()
    result = await cli.run(
        "reject", complaint_id, *ACTOR, "--duplicate-of", earlier, "--reason", REASON
    )
    assert result.exit_code == 0, result.output
    await cli.state_when(complaint_id, lambda s: len(s.messages) >= 2)
    [sent] = [m for m in cli.messages.sent if m.message_id == f"{complaint_id}:rejection:1"]
    assert f"a duplicate of your earlier complaint {earlier}" in " ".join(sent.body.split())
    assert REASON not in sent.body


def test_a_failed_delivery_shows_its_reason_as_recorded_and_old_cases_say_so():
    at = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    failed = MessageRecord(
        message_id="C-1:rejection:1",
        purpose=MessagePurpose.REJECTION,
        sequence=1,
        template_id="rejection/en@0123456789ab",
        language="en",
        content_hash="ab" * 32,
        produced_at=at,
        failed_at=at + timedelta(minutes=5),
        failure="550 [address] unknown user",
    )
    complaint = received()
    state = ComplaintState(
        complaint_id=complaint.complaint_id,
        status=ComplaintStatus.REJECTED,
        complaint=complaint,
        received_at=at,
        message_policy=MessagePolicy(),
        messages=[failed],
    )
    shown = messages_text(state).plain
    assert "rejection 1  en  rejection/en@0123456789ab" in shown
    assert "NOT DELIVERED 2026-11-20 09:05 UTC: 550 [address] unknown user" in shown
    assert f"content hash {'ab' * 32}" in shown
    assert EMAIL not in shown and ADDRESS not in shown
    before = state.model_copy(update={"message_policy": None, "messages": []})
    assert "before messages existed" in messages_text(before).plain
