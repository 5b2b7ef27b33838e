"""On the real stack: a received complaint's acknowledgment reaches complaints.customer-messages.v1
with the address the deliverer needs, a CRM's message.delivered comes back through the stream
and is audited, and neither the customer's name nor address is in any log or the audit log."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from audit.store import EntryFilter
from schemas import topics
from schemas.customer_message import content_hash
from tests.conftest import LocalStack, eventually
from tests.e2e.test_intake import complaint_event, publish_with_kafka_python

pytestmark = [pytest.mark.e2e]

NAME = "Orsolya Brankwhistle"
EMAIL = "orsolya.brankwhistle@example.org"


def messages_for(stack: LocalStack, complaint_id: str) -> list[dict[str, Any]]:
    consumer = KafkaConsumer(bootstrap_servers=stack.env["CLOSELOOP_KAFKA_BOOTSTRAP"])
    try:
        partitions = [
            TopicPartition(topics.CUSTOMER_MESSAGES, p)
            for p in consumer.partitions_for_topic(topics.CUSTOMER_MESSAGES) or ()
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        found = []
        while any(consumer.position(tp) < ends[tp] for tp in partitions):
            for records in consumer.poll(timeout_ms=500).values():
                found += [json.loads(r.value) for r in records]
    finally:
        consumer.close()
    return [m for m in found if m["complaint_id"] == complaint_id]


def entries(stack: LocalStack, complaint_id: str, entry_type: str) -> list[Any]:
    """The complaint's audit entries of `entry_type` (all of them for "")."""
    log = stack.audit_log()
    try:
        return log.entries(EntryFilter(complaint_id=complaint_id, entry_type=entry_type or None))
    finally:
        log.engine.dispose()


async def test_the_acknowledgment_goes_out_comes_back_delivered_and_no_log_names_the_customer(
    sqlite_stack: LocalStack,
) -> None:
    stack = sqlite_stack
    complaint_id = f"MSG-{uuid.uuid4().hex[:10]}"
    event = complaint_event(complaint_id)
    event["customer"] = {"id": "CUST-MSG", "name": NAME, "email": EMAIL}
    publish_with_kafka_python(stack, event)

    found = await eventually(
        lambda: asyncio.to_thread(messages_for, stack, complaint_id), bool, timeout=120
    )
    assert found, f"no message for {complaint_id}\n{stack.logs()}"
    (ack,) = found
    assert ack["message_id"] == f"{complaint_id}:acknowledgment:1"
    assert ack["recipient"] == {"customer_id": "CUST-MSG", "name": NAME, "email": EMAIL}
    assert ack["content_hash"] == content_hash(ack["subject"], ack["body"])
    (produced,) = entries(stack, complaint_id, "complaint.message_produced")
    assert produced.data["content_hash"] == ack["content_hash"]

    report = {
        "event_id": str(uuid.uuid4()),
        "event_type": "message.delivered",
        "occurred_at": datetime.now(UTC).isoformat(),
        "source": "crm",
        "complaint_id": complaint_id,
        "message_id": ack["message_id"],
    }
    producer = KafkaProducer(bootstrap_servers=stack.env["CLOSELOOP_KAFKA_BOOTSTRAP"])
    producer.send(
        topics.COMPLAINTS_UPDATES, key=complaint_id.encode(), value=json.dumps(report).encode()
    ).get(timeout=30)
    producer.close()
    delivered = await eventually(
        lambda: asyncio.to_thread(entries, stack, complaint_id, "complaint.message_delivered"),
        bool,
        timeout=120,
    )
    assert delivered, f"delivery not audited\n{stack.logs()}"
    assert delivered[0].data["message_id"] == ack["message_id"]

    audited = json.dumps([e.data for e in entries(stack, complaint_id, "")], default=str)
    logs = "\n".join(p.read_text(errors="replace") for p in (stack.home / "logs").glob("*.log"))
    for personal in (NAME, EMAIL):
        assert personal not in logs
        assert personal not in audited
