"""A complaint published to Kafka becomes exactly one workflow and one audit entry.

Runs on the real stack (Temporal dev server, Tansu, `closeloop worker`, `closeloop stream`)
once with the audit log on SQLite and once on PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from kafka import KafkaProducer

from audit.store import EntryFilter
from schemas import search_attributes, topics
from schemas.complaint_state import ComplaintState, ComplaintStatus
from tests.conftest import LocalStack, eventually
from workflows.complaint import ComplaintWorkflow

pytestmark = pytest.mark.e2e


def complaint_event(complaint_id: str, *, event_id: str | None = None) -> dict[str, object]:
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "event_type": "complaint.received",
        "occurred_at": datetime.now(UTC).isoformat(),
        "source": "e2e-test",
        "complaint_id": complaint_id,
        "customer": {"id": "CUST-1", "name": "Test Person", "email": "t@example.com"},
        "product": {"sku": "SKU-1", "lot": "LOT-9"},
        "channel": "web",
        "summary": "The lid cracked after one use",
        "description": "",
    }


def publish_with_kafka_python(stack: LocalStack, *events: dict[str, object]) -> None:
    producer = KafkaProducer(bootstrap_servers=stack.env["CLOSELOOP_KAFKA_BOOTSTRAP"], acks="all")
    try:
        for event in events:
            producer.send(
                topics.COMPLAINTS_RECEIVED,
                key=str(event["complaint_id"]).encode(),
                value=json.dumps(event).encode(),
            ).get(timeout=30)
    finally:
        producer.close()


async def runs_of(stack: LocalStack, complaint_id: str) -> list[str]:
    client = await stack.client()
    return [
        execution.run_id
        async for execution in client.list_workflows(f'WorkflowId = "{complaint_id}"')
    ]


def received_entries(stack: LocalStack, complaint_id: str) -> int:
    entries = stack.audit_log().entries(
        EntryFilter(complaint_id=complaint_id, entry_type="complaint.received")
    )
    return len(entries)


@pytest.mark.clause("ISO 10002:2018 7.2", "ISO 9001:2015 8.2.1")
async def test_published_complaint_starts_one_workflow_and_one_audit_entry(local_stack):
    complaint_id = f"E2E-{uuid.uuid4().hex[:10]}"
    first = complaint_event(complaint_id)
    publish_with_kafka_python(local_stack, first)

    client = await local_stack.client()
    handle = client.get_workflow_handle(complaint_id)

    async def state() -> ComplaintState | None:
        try:
            return await handle.query(ComplaintWorkflow.current_state)
        except Exception:
            return None

    acknowledged = await eventually(
        state, lambda s: s is not None and s.status is not ComplaintStatus.RECEIVED
    )
    assert acknowledged is not None, local_stack.logs()
    assert acknowledged.status is ComplaintStatus.ACKNOWLEDGED
    assert len(await runs_of(local_stack, complaint_id)) == 1
    assert received_entries(local_stack, complaint_id) == 1
    description = await handle.describe()
    assert description.typed_search_attributes.get(search_attributes.STATUS) == "acknowledged"
    entries = local_stack.audit_log().entries(EntryFilter(complaint_id=complaint_id))
    assert [e.entry_type for e in entries][:2] == ["complaint.received", "complaint.acknowledged"]

    # The same event again (a producer retry) and another intake event for the same id.
    publish_with_kafka_python(local_stack, first, complaint_event(complaint_id))
    await local_stack.wait_until_consumed(topics.COMPLAINTS_RECEIVED)
    assert len(await runs_of(local_stack, complaint_id)) == 1
    assert received_entries(local_stack, complaint_id) == 1

    # Even once the case is closed, a late intake event must not open a second one.
    await handle.terminate(reason="e2e: close the case")
    publish_with_kafka_python(local_stack, complaint_event(complaint_id))
    await local_stack.wait_until_consumed(topics.COMPLAINTS_RECEIVED)
    assert len(await runs_of(local_stack, complaint_id)) == 1
    assert received_entries(local_stack, complaint_id) == 1


async def test_invalid_event_does_not_stall_the_stream(sqlite_stack):
    """A broken event is set aside and the next valid complaint on the topic still starts."""
    producer = KafkaProducer(bootstrap_servers=sqlite_stack.env["CLOSELOOP_KAFKA_BOOTSTRAP"])
    complaint_id = f"E2E-{uuid.uuid4().hex[:10]}"
    try:
        for raw in (b"\xff\xfe not utf-8", b'{"event_type": "complaint.received"}', b"[]"):
            producer.send(topics.COMPLAINTS_RECEIVED, key=complaint_id.encode(), value=raw)
        producer.send(
            topics.COMPLAINTS_RECEIVED,
            key=complaint_id.encode(),
            value=json.dumps(complaint_event(complaint_id)).encode(),
        )
        producer.flush()
    finally:
        producer.close()
    runs = await eventually(lambda: runs_of(sqlite_stack, complaint_id), lambda r: len(r) == 1)
    assert len(runs) == 1, sqlite_stack.logs()
    assert received_entries(sqlite_stack, complaint_id) == 1
