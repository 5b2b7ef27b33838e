"""One complaint from a Kafka event to closure through the operators' CLI, on the real stack.

Temporal dev server, Tansu, `closeloop worker` and `closeloop stream` run as processes;
every decision is a `closeloop complaint …` command in its own process. Afterwards the audit
log holds every step in order, `closeloop audit verify` passes, and the status topic carried
every status change. Runs once with the audit log on SQLite and once on PostgreSQL.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from kafka import KafkaConsumer, TopicPartition

from audit.store import EntryFilter
from schemas import topics
from schemas.complaint_state import ComplaintState, ComplaintStatus
from schemas.contract import validator_for
from tests.conftest import LocalStack, eventually
from workflows.complaint import ComplaintWorkflow

pytestmark = pytest.mark.e2e

HANDLER = ["--actor", "qe.smith", "--actor-name", "Sam Smith"]
MANAGER = ["--actor", "qm.lee", "--actor-name", "Lee Quality"]
OWNER = ["--actor", "eng.park", "--actor-name", "Jo Park"]
VERIFIER = ["--actor", "qa.ruiz", "--actor-name", "Ana Ruiz"]


def received_event(complaint_id: str) -> dict[str, object]:
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": "complaint.received",
        "occurred_at": datetime.now(UTC).isoformat(),
        "source": "web-shop",
        "complaint_id": complaint_id,
        "customer": {"id": "CUST-88123", "name": "Ada Example", "email": "ada@example.com"},
        "product": {"sku": "KET-200", "name": "Electric kettle", "lot": "L2026-41"},
        "channel": "web",
        "summary": "Kettle switch does not turn off when the water boils",
        "description": "It kept boiling until I unplugged it.",
    }


def decide(stack: LocalStack, *args: str) -> str:
    result = stack.cli("complaint", *args)
    assert result.returncode == 0, (
        f"closeloop complaint {' '.join(args)} exited {result.returncode}\n"
        f"{result.stdout}\n{result.stderr}\n{stack.logs()}"
    )
    return result.stdout


def status_events(stack: LocalStack, complaint_id: str) -> list[dict[str, object]]:
    bootstrap = stack.env["CLOSELOOP_KAFKA_BOOTSTRAP"]
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, consumer_timeout_ms=3000)
    try:
        partitions = [
            TopicPartition(topics.COMPLAINTS_STATUS, p)
            for p in consumer.partitions_for_topic(topics.COMPLAINTS_STATUS) or ()
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        return [
            json.loads(message.value)
            for message in consumer
            if message.key == complaint_id.encode()
        ]
    finally:
        consumer.close()


async def test_a_complaint_from_kafka_to_closure_through_the_cli(local_stack, tmp_path):
    stack = local_stack
    complaint_id = f"E2E-LC-{uuid.uuid4().hex[:8]}"
    events_file = tmp_path / "complaint.json"
    events_file.write_text(json.dumps(received_event(complaint_id)), encoding="utf-8")
    stack.cli("publish", str(events_file), check=True)

    client = await stack.client()
    handle = client.get_workflow_handle_for(ComplaintWorkflow.run, complaint_id)

    async def state() -> ComplaintState | None:
        try:
            return await handle.query(ComplaintWorkflow.current_state)
        except Exception:
            return None

    acknowledged = await eventually(
        state, lambda s: s is not None and s.status is ComplaintStatus.ACKNOWLEDGED
    )
    assert acknowledged is not None, stack.logs()

    # An illegal decision is refused with the reason, and exits 1.
    refused = stack.cli("complaint", "close", complaint_id, *MANAGER, "--response", "Sorry")
    assert refused.returncode == 1
    assert (
        f"complaint {complaint_id} is acknowledged; `closeloop complaint close` is not allowed"
        in refused.stderr
    )

    shown = decide(stack, "show", complaint_id, "--json")
    reviewed = ComplaintState.model_validate_json(shown).state_hash
    out = decide(
        stack,
        "triage",
        complaint_id,
        *HANDLER,
        "--expect-hash",
        reviewed,
        "--comment",
        "Overheating risk",
        "--severity",
        "high",
        "--category",
        "product-safety",
        "--risk",
        "Continuous boiling can overheat the base",
        "--assignee",
        "qe.smith",
        "--not-reportable",
        "--justification",
        "No injury reported, no malfunction likely to cause one",
    )
    assert f"{complaint_id}  triaged" in out
    decide(
        stack,
        "investigate",
        complaint_id,
        *HANDLER,
        "--method",
        "five_whys",
        "--root-cause",
        "Thermostat bimetal strip out of tolerance (supplier lot 41)",
        "--factor",
        "Incoming inspection samples 1 in 500",
        "--evidence",
        "lab://reports/LR-2207",
    )
    out = decide(
        stack,
        "plan-capa",
        complaint_id,
        *MANAGER,
        "--action",
        "A1",
        "corrective",
        "eng.park",
        "14d",
        "Tighten the thermostat specification with the supplier",
        "--verification-wait",
        "30d",
    )
    assert "capa_planned" in out
    out = decide(
        stack,
        "progress",
        complaint_id,
        *OWNER,
        "--action",
        "A1",
        "--note",
        "Supplier accepted the new specification",
        "--percent",
        "60",
    )
    assert "capa_in_progress" in out
    out = decide(
        stack,
        "complete-action",
        complaint_id,
        *OWNER,
        "--action",
        "A1",
        "--evidence",
        "erp://ncr/NCR-991",
    )
    assert "verifying" in out
    decide(
        stack,
        "verify",
        complaint_id,
        *VERIFIER,
        "--effective",
        "--evidence",
        "qms://audit/VE-19",
        "--override-wait",
        "End-to-end test: effectiveness measured on the first production lot",
    )
    out = decide(
        stack,
        "close",
        complaint_id,
        *MANAGER,
        "--response",
        "We replaced your kettle and fixed the cause with our supplier.",
        "--channel",
        "email",
    )
    assert f"{complaint_id}  closed" in out

    listed = await eventually(
        lambda: _list(stack, "--status", "closed"), lambda rows: complaint_id in rows
    )
    assert complaint_id in listed, stack.logs()
    show = decide(stack, "show", complaint_id)
    assert f"{complaint_id}  closed" in show and "Closed;" in show

    everything = stack.audit_log().entries(EntryFilter(complaint_id=complaint_id))
    # Messages to the complainant are produced beside the decisions, as they fall due.
    entries = [e for e in everything if e.entry_type != "complaint.message_produced"]
    assert [e.entry_type for e in entries] == [
        "complaint.received",
        "complaint.acknowledged",
        "complaint.triaged",
        "complaint.investigated",
        "capa.planned",
        "capa.action_progress",
        "capa.action_completed",
        "complaint.verified",
        "complaint.closed",
    ]
    assert [e.actor for e in entries[2:]] == [
        "qe.smith",
        "qe.smith",
        "qm.lee",
        "eng.park",
        "eng.park",
        "qa.ruiz",
        "qm.lee",
    ]
    assert entries[2].data["signature"]["state_hash"] == reviewed
    assert entries[-1].data["signature"]["meaning"] == "closed"
    messages = await eventually(
        _async(lambda: _message_purposes(stack, complaint_id)),
        lambda found: "survey_invitation" in found,
    )
    assert messages == ["acknowledgment", "response", "survey_invitation"]
    verify = stack.cli("audit", "verify")
    assert verify.returncode == 0, f"{verify.stdout}\n{verify.stderr}"

    published = await eventually(
        _async(lambda: status_events(stack, complaint_id)),
        lambda found: any(e["status"] == "closed" for e in found),
    )
    assert [e["status"] for e in published] == [
        "received",
        "acknowledged",
        "triaged",
        "investigating",
        "capa_planned",
        "capa_in_progress",
        "verifying",
        "closed",
    ], stack.logs()
    for document in published:
        validator_for(topics.COMPLAINTS_STATUS).validate(document)


async def _list(stack: LocalStack, *args: str) -> str:
    result = stack.cli("complaint", "list", "--json", *args)
    return result.stdout if result.returncode == 0 else ""


def _message_purposes(stack: LocalStack, complaint_id: str) -> list[str]:
    """What the complainant was sent, in order (acknowledgment, response, survey…)."""
    return [
        e.data["purpose"]
        for e in stack.audit_log().entries(EntryFilter(complaint_id=complaint_id))
        if e.entry_type == "complaint.message_produced"
    ]


def _async(probe):
    async def run():
        return probe()

    return run
