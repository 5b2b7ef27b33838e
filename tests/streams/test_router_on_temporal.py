"""What the stream's router tells an upstream team, against the real workflow on Temporal.

A follow-up the case refuses is dead-lettered with the workflow's reason worded in the event
contract's terms (event types and `$.field` paths, never Update names); an event id that was
already applied with other content is a conflict, not a silent no-op (issue 8.5).
"""

from __future__ import annotations

import json
import uuid

from schemas.decisions import Decision
from schemas.decoding import decode_update
from streams.routing import Delivered, TemporalRouter
from tests.workflows.conftest import Harness

INTERNAL_NAMES = [d.value for d in Decision if "_" in d.value]


def follow_up(complaint_id: str, event_type: str, event_id: str, **fields: object) -> bytes:
    document = {
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": "2026-11-21T10:05:00+01:00",
        "source": "crm",
        "complaint_id": complaint_id,
        **fields,
    }
    return json.dumps(document).encode()


def router_for(harness: Harness) -> TemporalRouter:
    async def client():  # type: ignore[no-untyped-def]
        return harness.client

    return TemporalRouter(client)


async def test_an_event_id_applied_with_other_content_is_a_conflict(harness: Harness) -> None:
    handle = await harness.start()
    router = router_for(harness)
    event_id = str(uuid.uuid4())

    def information(text: str) -> bytes:
        return follow_up(handle.id, "customer.information_added", event_id, information=text)

    first = await router.deliver(decode_update(information("The switch stuck twice more.")))
    again = await router.deliver(decode_update(information("The switch stuck twice more.")))
    other = await router.deliver(decode_update(information("Actually it was the lid.")))

    assert first.status is Delivered.APPLIED
    assert again.status is Delivered.APPLIED  # a redelivery: answered, applied once
    assert other.status is Delivered.CONFLICT
    assert "$.event_id" in other.reason and "other content" in other.reason
    entries = [
        e
        for e in harness.audit_log.entries()
        if e.complaint_id == handle.id and e.entry_type == "complaint.information_added"
    ]
    assert len(entries) == 1
    assert entries[0].data["input"]["information"] == "The switch stuck twice more."


async def test_a_refused_follow_up_is_worded_in_the_event_contracts_terms(
    harness: Harness,
) -> None:
    handle = await harness.start()
    event = follow_up(
        handle.id,
        "verification.completed",
        str(uuid.uuid4()),
        actor={"id": "qa.kim"},
        effective=True,
        evidence=["qms://VE-1"],
    )

    delivery = await router_for(harness).deliver(decode_update(event))

    assert delivery.status is Delivered.REFUSED, delivery
    assert "verification.completed" in delivery.reason
    assert handle.id in delivery.reason
    for name in INTERNAL_NAMES:
        assert name not in delivery.reason, delivery.reason
