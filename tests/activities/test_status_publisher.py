"""`complaints.status.v1`: the contract (schema, model, examples) and the Kafka publisher."""

from __future__ import annotations

import json
import socket
import time
import uuid
from datetime import UTC, datetime

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from temporalio.testing import ActivityEnvironment

from activities.policy import PolicyActivities
from activities.status import StatusPublisher
from schemas.complaint_state import ComplaintStatus
from schemas.contract import examples_dir, validator_for
from schemas.deadlines import DeadlinePolicy
from schemas.status_event import ComplaintStatusEvent, StatusEventType, status_event_id
from schemas.topics import COMPLAINTS_STATUS

EXAMPLES = sorted(examples_dir(COMPLAINTS_STATUS).glob("*.json"))


def event(complaint_id: str = "C-1", sequence: int = 1) -> ComplaintStatusEvent:
    return ComplaintStatusEvent(
        event_id=status_event_id(complaint_id, sequence),
        event_type=StatusEventType.STATUS_CHANGED,
        occurred_at=datetime.now(UTC),
        complaint_id=complaint_id,
        sequence=sequence,
        status=ComplaintStatus.ACKNOWLEDGED,
        previous_status=ComplaintStatus.RECEIVED,
        decision="acknowledge",
        customer_id="CUST-1",
        product_sku="KET-200",
        overdue=False,
        reportable=False,
        reopen_count=0,
    )


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_match_the_schema_and_the_model(path):
    document = json.loads(path.read_text(encoding="utf-8"))
    validator_for(COMPLAINTS_STATUS).validate(document)
    model = ComplaintStatusEvent.model_validate(document)
    assert model.event_id == status_event_id(model.complaint_id, model.sequence)


def test_what_the_workflow_publishes_matches_the_schema():
    document = json.loads(event().model_dump_json())
    validator_for(COMPLAINTS_STATUS).validate(document)


def test_event_ids_are_stable_per_complaint_and_sequence():
    assert status_event_id("C-1", 3) == status_event_id("C-1", 3)
    assert status_event_id("C-1", 3) != status_event_id("C-1", 4)
    assert status_event_id("C-1", 3) != status_event_id("C-2", 3)


def test_policy_activity_hands_out_the_configured_policy():
    policy = DeadlinePolicy(auto_acknowledge=False)
    assert ActivityEnvironment().run(PolicyActivities(policy).load_deadline_policy) == policy


def test_a_down_broker_fails_the_attempt_quickly_so_temporal_retries():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens here once the socket closes
    publisher = StatusPublisher(f"127.0.0.1:{port}", timeout=1.0)
    started = time.monotonic()
    with pytest.raises(KafkaError):  # the attempt fails; Temporal retries it
        ActivityEnvironment().run(publisher.publish_status_event, event())
    assert time.monotonic() - started < 15


@pytest.mark.e2e
def test_publishes_keyed_by_complaint_id_to_the_real_broker(sqlite_stack):
    bootstrap = sqlite_stack.env["CLOSELOOP_KAFKA_BOOTSTRAP"]
    complaint_id = f"C-PUB-{uuid.uuid4().hex[:8]}"
    publisher = StatusPublisher(bootstrap)
    try:
        ActivityEnvironment().run(publisher.publish_status_event, event(complaint_id, 1))
        ActivityEnvironment().run(publisher.publish_status_event, event(complaint_id, 2))
    finally:
        publisher.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=5000)
    try:
        partitions = [
            TopicPartition(COMPLAINTS_STATUS, p)
            for p in consumer.partitions_for_topic(COMPLAINTS_STATUS) or ()
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        found = [
            json.loads(message.value)
            for message in consumer
            if message.key == complaint_id.encode()
        ]
    finally:
        consumer.close()
    assert [e["sequence"] for e in found] == [1, 2]
    for document in found:
        validator_for(COMPLAINTS_STATUS).validate(document)
