"""Every path a complaint can take, on the time-skipping server with the real audit log."""

from __future__ import annotations

from datetime import timedelta

import pytest

from base.complaints import DecisionConflictError
from schemas.complaint_state import ActionStatus, ComplaintStatus, SignatureMeaning
from schemas.decisions import (
    AddInformationInput,
    CustomerActivityInput,
    Decision,
    DeclineInvestigationInput,
    RecordSurveyInput,
    RejectInput,
    RejectReason,
)
from schemas.outcomes import RefusalCode
from schemas.status_event import StatusEventType
from workflows.capa import CapaActionWorkflow
from workflows.complaint import ComplaintWorkflow
from workflows.signature import state_hash


@pytest.mark.clause(
    "ISO 9001:2015 5.1.2",
    "ISO 9001:2015 8.2.1",
    "ISO 9001:2015 10.2.1",
    "ISO 10002:2018 7.3",
    "ISO 10002:2018 7.6",
    "ISO 10002:2018 7.7",
    "ISO 10002:2018 7.8",
    "ISO 13485:2016 8.2.2",
    "ISO 13485:2016 8.5.2",
)
async def test_complaint_to_closure(harness, make):
    handle = await harness.start()
    cid = handle.id
    state = await harness.state(handle)
    assert state.status is ComplaintStatus.ACKNOWLEDGED
    assert state.acknowledgment is not None and state.acknowledgment.by.id == "closeloop"

    reviewed_hash = state.state_hash
    state = await harness.decide(
        handle, Decision.TRIAGE, make.triage(expected_state_hash=reviewed_hash)
    )
    assert state.status is ComplaintStatus.TRIAGED
    assert state.next_due is not None and state.next_due.what == "conclude the investigation"

    state = await harness.decide(handle, Decision.INVESTIGATE, make.investigate())
    assert state.status is ComplaintStatus.INVESTIGATING

    now = await harness.now()
    state = await harness.decide(
        handle,
        Decision.PLAN_CAPA,
        make.plan(
            make.action("A1", now + timedelta(days=10), kind="correction"),
            make.action("A2", now + timedelta(days=20), owner="eng.kim"),
        ),
    )
    assert state.status is ComplaintStatus.CAPA_PLANNED
    assert [a.workflow_id for a in state.actions] == [f"{cid}/capa/A1", f"{cid}/capa/A2"]

    await harness.skip(timedelta(days=5))
    state = await harness.decide(handle, Decision.COMPLETE_ACTION, make.complete("A1"))
    assert state.status is ComplaintStatus.CAPA_IN_PROGRESS
    child = harness.client.get_workflow_handle_for(CapaActionWorkflow.run, f"{cid}/capa/A1")
    assert (await child.result()).status is ActionStatus.DONE

    state = await harness.decide(
        handle, Decision.COMPLETE_ACTION, make.complete("A2", actor={"id": "eng.kim"})
    )
    assert state.status is ComplaintStatus.VERIFYING
    assert state.verification_not_before == state.actions[-1].completed.at + timedelta(days=30)

    await harness.skip(timedelta(days=31))
    state = await harness.decide(handle, Decision.VERIFY, make.verify())
    assert state.status is ComplaintStatus.VERIFYING
    assert Decision.CLOSE in state.allowed_decisions
    state = await harness.decide(handle, Decision.CLOSE, make.close())
    assert state.status is ComplaintStatus.CLOSED
    assert state.next_due is None

    # A survey arrives after closure; then the retention period ends the workflow.
    state = await harness.decide(
        handle,
        Decision.RECORD_SURVEY,
        RecordSurveyInput(actor={"id": "survey-tool"}, csat=4, nps=9, event_id="svy-1"),
        id="svy-1",
    )
    assert state.surveys[0].csat == 4
    final = await harness.result(handle)
    assert final.status is ComplaintStatus.CLOSED
    await harness.record(handle, "complaint-closed-with-capa")
    await harness.record(child, "capa-action-done")

    assert harness.entry_types(cid) == [
        "complaint.received",
        "complaint.acknowledged",
        "complaint.triaged",
        "complaint.investigated",
        "capa.planned",
        "capa.action_completed",
        "capa.action_completed",
        "complaint.verified",
        "complaint.closed",
        "complaint.survey",
    ] or _explain(harness, cid)
    triaged = harness.entries(cid)[2]
    assert triaged.actor == make.handler.id
    assert triaged.data["actor"] == {"id": make.handler.id, "name": make.handler.name}
    assert triaged.data["signature"]["meaning"] == SignatureMeaning.REVIEWED
    assert triaged.data["signature"]["state_hash"] == reviewed_hash
    assert triaged.data["signature"]["state_encoding"] == "rfc8785"
    assert triaged.reason == "Overheating risk"
    assert triaged.data["from_status"] == "acknowledged"
    assert triaged.data["to_status"] == "triaged"
    closed = harness.entries(cid)[-2]
    assert closed.data["signature"]["meaning"] == SignatureMeaning.CLOSED
    assert closed.actor == make.manager.id

    statuses = [
        e.status for e in harness.events(cid) if e.event_type is StatusEventType.STATUS_CHANGED
    ]
    assert statuses == [
        ComplaintStatus.RECEIVED,
        ComplaintStatus.ACKNOWLEDGED,
        ComplaintStatus.TRIAGED,
        ComplaintStatus.INVESTIGATING,
        ComplaintStatus.CAPA_PLANNED,
        ComplaintStatus.CAPA_IN_PROGRESS,
        ComplaintStatus.VERIFYING,
        ComplaintStatus.CLOSED,
    ]
    assert [e.sequence for e in harness.events(cid)] == list(range(1, 9))


def _explain(harness, cid):
    raise AssertionError("\n".join(f"{e.entry_type}: {e.data}" for e in harness.entries(cid)))


async def test_rejected_as_duplicate(harness, make):
    original = await harness.start()
    handle = await harness.start()
    state = await harness.decide(
        handle,
        Decision.REJECT,
        RejectInput(
            actor=make.handler,
            reason=RejectReason.DUPLICATE,
            duplicate_of=original.id,
            explanation="Same customer, same kettle, reported twice by phone and web",
        ),
    )
    assert state.status is ComplaintStatus.REJECTED
    assert state.rejection is not None and state.rejection.duplicate_of == original.id
    assert state.next_due is None
    assert all(not d.active for d in state.deadlines)
    entry = harness.entries(handle.id)[-1]
    assert entry.entry_type == "complaint.rejected"
    assert entry.data["input"]["duplicate_of"] == original.id
    assert entry.data["input"]["reason"] == "duplicate"
    final = await harness.result(handle)
    assert final.status is ComplaintStatus.REJECTED
    await harness.record(handle, "complaint-rejected-duplicate")


@pytest.mark.clause("ISO 9001:2015 10.2.1", "ISO 10002:2018 7.6", "ISO 13485:2016 8.2.2")
async def test_no_investigation_with_justification(harness, make):
    handle = await harness.start()
    await harness.decide(handle, Decision.TRIAGE, make.triage(severity="low", category="delivery"))
    state = await harness.decide(
        handle,
        Decision.DECLINE_INVESTIGATION,
        DeclineInvestigationInput(
            actor=make.manager, reason="Courier damage, documented by photos; no product fault"
        ),
    )
    assert state.status is ComplaintStatus.INVESTIGATING
    assert Decision.CLOSE in state.allowed_decisions
    state = await harness.decide(handle, Decision.CLOSE, make.close())
    assert state.status is ComplaintStatus.CLOSED
    await harness.result(handle)
    await harness.record(handle, "complaint-closed-without-investigation")
    declined = harness.entries(handle.id)[-2]
    assert declined.entry_type == "complaint.investigation_declined"
    assert declined.actor == make.manager.id
    assert declined.data["input"]["reason"].startswith("Courier damage")
    assert declined.data["signature"]["meaning"] == SignatureMeaning.APPROVED


@pytest.mark.clause("ISO 9001:2015 10.2.1", "ISO 10002:2018 7.9", "ISO 13485:2016 8.5.2")
async def test_verification_failed_reopened_then_closed(harness, make):
    handle = await harness.start()
    await harness.decide(handle, Decision.TRIAGE, make.triage())
    await harness.decide(handle, Decision.INVESTIGATE, make.investigate())
    now = await harness.now()
    await harness.decide(
        handle, Decision.PLAN_CAPA, make.plan(make.action("A1", now + timedelta(days=7)))
    )
    await harness.decide(handle, Decision.COMPLETE_ACTION, make.complete("A1"))
    await harness.skip(timedelta(days=30, hours=1))
    state = await harness.decide(
        handle,
        Decision.VERIFY,
        make.verify(effective=False, comment="Two more kettles failed after the fix"),
    )
    assert state.status is ComplaintStatus.REOPENED
    assert state.loop == 1
    assert state.reopenings[0].reason == "verification_failed"
    assert state.next_due is not None and state.next_due.what == "conclude the investigation"

    state = await harness.decide(
        handle,
        Decision.INVESTIGATE,
        make.investigate(method="fault_tree", root_causes=["Second supplier, same defect"]),
    )
    assert state.status is ComplaintStatus.INVESTIGATING
    now = await harness.now()
    await harness.decide(
        handle, Decision.PLAN_CAPA, make.plan(make.action("B1", now + timedelta(days=7)))
    )
    state = await harness.decide(handle, Decision.COMPLETE_ACTION, make.complete("B1"))
    assert state.status is ComplaintStatus.VERIFYING
    await harness.skip(timedelta(days=31))
    await harness.decide(handle, Decision.VERIFY, make.verify())
    state = await harness.decide(handle, Decision.CLOSE, make.close())
    assert state.status is ComplaintStatus.CLOSED
    assert state.loop == 1
    assert [v.effective for v in state.verifications] == [False, True]
    assert [v.loop for v in state.verifications] == [0, 1]
    types = harness.entry_types(handle.id)
    assert types.count("complaint.verified") == 2
    assert types.count("complaint.investigated") == 2
    events = [e for e in harness.events(handle.id) if e.status is ComplaintStatus.REOPENED]
    assert events and events[0].reopen_count == 1
    await harness.result(handle)
    await harness.record(handle, "complaint-reopened-then-closed")


@pytest.mark.clause("ISO 9001:2015 10.2.1")
async def test_verifier_who_owns_an_action_is_refused(harness, make):
    handle = await harness.start()
    await harness.decide(handle, Decision.TRIAGE, make.triage())
    await harness.decide(handle, Decision.INVESTIGATE, make.investigate())
    now = await harness.now()
    await harness.decide(
        handle,
        Decision.PLAN_CAPA,
        make.plan(
            make.action("A1", now + timedelta(days=5)),
            make.action("A2", now + timedelta(days=5), owner=make.verifier.id),
        ),
    )
    await harness.decide(handle, Decision.COMPLETE_ACTION, make.complete("A1"))
    await harness.decide(handle, Decision.COMPLETE_ACTION, make.complete("A2", actor=make.verifier))
    await harness.skip(timedelta(days=31))
    reason = await harness.refused(handle, Decision.VERIFY, make.verify())
    assert "owns CAPA action A2" in reason
    reason = await harness.refused(handle, Decision.VERIFY, make.verify(actor=make.owner))
    assert "owns CAPA action A1" in reason
    state = await harness.decide(
        handle, Decision.VERIFY, make.verify(actor={"id": "qa.other", "name": "Independent"})
    )
    assert state.verifications[-1].by.id == "qa.other"


async def test_verification_before_the_wait_needs_a_reason(harness, make):
    handle = await harness.start()
    await harness.decide(handle, Decision.TRIAGE, make.triage())
    await harness.decide(handle, Decision.INVESTIGATE, make.investigate())
    now = await harness.now()
    await harness.decide(
        handle,
        Decision.PLAN_CAPA,
        make.plan(make.action("A1", now + timedelta(days=5)), verification_wait=timedelta(days=14)),
    )
    state = await harness.decide(handle, Decision.COMPLETE_ACTION, make.complete("A1"))
    assert state.verification_not_before == state.actions[0].completed.at + timedelta(days=14)
    reason = await harness.refused(handle, Decision.VERIFY, make.verify())
    assert "override_wait_reason" in reason
    state = await harness.decide(
        handle,
        Decision.VERIFY,
        make.verify(override_wait_reason="Recall completed; effectiveness measured on 2,000 units"),
    )
    assert state.verifications[0].override_wait_reason is not None


@pytest.mark.clause("21 CFR 11.10(e)")
async def test_a_retried_update_is_recorded_once(harness, make):
    handle = await harness.start()
    request = make.triage(event_id="evt-42")
    first = await harness.decide(handle, Decision.TRIAGE, request, id="evt-42")
    again = await harness.decide(handle, Decision.TRIAGE, request, id="evt-42")
    assert again.history == first.history
    assert harness.entry_types(handle.id).count("complaint.triaged") == 1
    entry = harness.entries(handle.id)[-1]
    assert entry.idempotency_key == f"{handle.id}:evt-42"
    assert entry.data["event_id"] == "evt-42"


async def test_customer_activity_signal_is_deduplicated(harness, make):
    handle = await harness.start()
    now = await harness.now()
    activity = CustomerActivityInput(
        event_id="act-1", actor={"id": "crm"}, activity="purchase", occurred_at=now
    )
    await handle.signal(ComplaintWorkflow.record_customer_activity, activity)
    await handle.signal(ComplaintWorkflow.record_customer_activity, activity)
    await handle.signal(
        ComplaintWorkflow.record_customer_activity,
        activity.model_copy(update={"event_id": "act-2", "activity": "login"}),
    )
    state = await harness.wait_for(handle, lambda s: s.customer_activity_count >= 2)
    await harness.decide(
        handle,
        Decision.ADD_INFORMATION,
        AddInformationInput(actor={"id": "crm"}, information="Photo of the switch"),
    )
    state = await harness.state(handle)
    assert state.customer_activity_count == 2
    assert [a.event_id for a in state.customer_activity] == ["act-1", "act-2"]
    assert harness.entry_types(handle.id).count("complaint.customer_activity") == 2
    await harness.decide(
        handle,
        Decision.REJECT,
        RejectInput(
            actor=make.handler, reason=RejectReason.NOT_A_COMPLAINT, explanation="A question"
        ),
    )
    await harness.result(handle)
    await harness.record(handle, "complaint-customer-activity-rejected")


@pytest.mark.clause("21 CFR 11.70")
async def test_state_hash_matches_the_query(harness):
    handle = await harness.start()
    state = await harness.state(handle)
    recomputed = state.model_copy(update={"state_hash": "", "next_due": None})
    assert state_hash(recomputed) == state.state_hash


async def test_a_decision_returns_a_small_receipt_and_the_state_stays_queryable(harness, make):
    handle = await harness.start()
    receipt = await harness.send(handle, Decision.TRIAGE, make.triage(), id="op-1")
    state = await harness.state(handle)
    assert receipt.complaint_id == handle.id and receipt.update_id == "op-1"
    assert receipt.decision is Decision.TRIAGE
    assert receipt.status == state.status == ComplaintStatus.TRIAGED
    assert receipt.state_hash == state.state_hash
    assert receipt.audit_seq == state.history[-1].audit_seq
    assert receipt.next_due is not None and receipt.next_due.what == "conclude the investigation"
    assert receipt.allowed_decisions == state.allowed_decisions
    assert receipt.what.startswith("Triaged: high product-safety")
    assert len(receipt.model_dump_json()) < 1024


async def test_the_same_update_id_with_the_same_content_returns_the_same_receipt(harness, make):
    handle = await harness.start()
    request = make.triage()
    first = await harness.send(handle, Decision.TRIAGE, request, id="op-2")
    again = await harness.send(handle, Decision.TRIAGE, request, id="op-2")
    assert again == first
    assert harness.entry_types(handle.id).count("complaint.triaged") == 1


async def test_the_same_update_id_with_other_content_is_a_conflict(harness, make):
    handle = await harness.start()
    await harness.send(handle, Decision.TRIAGE, make.triage(), id="op-3")
    before = harness.entries(handle.id)
    with pytest.raises(DecisionConflictError) as raised:
        await harness.send(handle, Decision.TRIAGE, make.triage(category="packaging"), id="op-3")
    refusal = raised.value.refusal
    assert refusal.code is RefusalCode.CONFLICT
    assert "{field:update_id}" in refusal.template and "{decision:triage}" in refusal.template
    assert "op-3" in refusal.plain() and "other content" in refusal.plain()
    with pytest.raises(DecisionConflictError):
        await harness.send(handle, Decision.REJECT, make.reject(), id="op-3")
    assert harness.entries(handle.id) == before
    assert (await harness.state(handle)).triage.category == "product-safety"
