"""Every deadline fires on time across days and weeks of workflow time, escalates once
(audit entry, status event, overdue search attribute) and the case keeps waiting."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from schemas import search_attributes
from schemas.complaint_state import ActionStatus, ComplaintStatus
from schemas.deadlines import DeadlinePolicy
from schemas.decisions import (
    AcknowledgeInput,
    DeadlineStage,
    Decision,
    DeclineInvestigationInput,
    ExtendInput,
    RegulatoryReportInput,
    Severity,
)
from schemas.status_event import StatusEventType
from workflows.capa import CapaActionWorkflow

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def escalations(harness, complaint_id):
    return [e for e in harness.entries(complaint_id) if e.entry_type == "complaint.escalated"]


def escalation_events(harness, complaint_id):
    return [e for e in harness.events(complaint_id) if e.event_type is StatusEventType.ESCALATED]


async def overdue_attribute(handle) -> bool | None:
    described = await handle.describe()
    return described.typed_search_attributes.get(search_attributes.OVERDUE)


@pytest.mark.clause("ISO 10002:2018 7.4", "ISO 10002:2018 8.4", "ISO 9001:2015 8.2.1")
@pytest.mark.parametrize("policy", [DeadlinePolicy(auto_acknowledge=False)])
async def test_acknowledge_deadline(harness, make, policy):
    handle = await harness.start()
    state = await harness.state(handle)
    assert state.status is ComplaintStatus.RECEIVED
    assert state.next_due.what == "acknowledge the complaint"
    assert state.next_due.due_at == state.received_at + DAY

    await harness.skip(DAY - HOUR)
    assert escalations(harness, handle.id) == []
    await harness.skip(2 * HOUR)
    state = await harness.wait_for(handle, lambda s: s.overdue)
    [entry] = escalations(harness, handle.id)
    assert entry.data["stage"] == "acknowledge"
    assert entry.actor == "closeloop"
    assert await overdue_attribute(handle) is True
    [event] = escalation_events(harness, handle.id)
    assert event.escalation.stage == "acknowledge"
    assert event.overdue and event.status is ComplaintStatus.RECEIVED

    # Still waiting for the decision, days later: it never drops the case.
    await harness.skip(3 * DAY)
    state = await harness.decide(
        handle,
        Decision.ACKNOWLEDGE,
        AcknowledgeInput(actor=make.handler, message="Called the customer back"),
    )
    assert state.status is ComplaintStatus.ACKNOWLEDGED
    # The triage deadline (2 days from receipt) has passed meanwhile, and escalated too.
    assert [e.data["stage"] for e in escalations(harness, handle.id)] == [
        "acknowledge",
        "triage",
    ]
    assert state.overdue


@pytest.mark.clause("ISO 10002:2018 7.5")
async def test_triage_deadline(harness, make):
    handle = await harness.start()
    await harness.skip(2 * DAY + HOUR)
    state = await harness.wait_for(handle, lambda s: s.overdue)
    assert [e.data["stage"] for e in escalations(harness, handle.id)] == ["triage"]
    assert state.history[-1].what.startswith("Escalated: triage was due")
    state = await harness.decide(handle, Decision.TRIAGE, make.triage())
    assert not state.overdue
    assert await overdue_attribute(handle) is False


@pytest.mark.clause("ISO 10002:2018 7.6", "ISO 10002:2018 8.4")
async def test_investigation_deadline_high_severity(harness, make):
    handle = await harness.start()
    await harness.decide(handle, Decision.TRIAGE, make.triage(severity=Severity.HIGH))
    await harness.skip(14 * DAY)
    assert escalations(harness, handle.id) == []
    await harness.skip(DAY + HOUR)
    await harness.wait_for(handle, lambda s: s.overdue)
    [entry] = escalations(harness, handle.id)
    assert entry.data["stage"] == "investigation"
    assert entry.data["severity"] == "high"
    assert entry.data["assignee"] == make.handler.id
    state = await harness.decide(handle, Decision.INVESTIGATE, make.investigate())
    assert not state.overdue


@pytest.mark.clause("ISO 13485:2016 8.5.2")
async def test_an_overdue_capa_action_escalates_and_its_due_date_can_move(harness, make):
    handle = await harness.start()
    await harness.decide(handle, Decision.TRIAGE, make.triage())
    await harness.decide(handle, Decision.INVESTIGATE, make.investigate())
    now = await harness.now()
    await harness.decide(handle, Decision.PLAN_CAPA, make.plan(make.action("A1", now + 10 * DAY)))
    await harness.skip(10 * DAY + HOUR)
    state = await harness.wait_for(handle, lambda s: s.overdue)
    assert state.actions[0].overdue
    overdue = [e for e in harness.entries(handle.id) if e.entry_type == "capa.action_overdue"]
    assert [e.data["action_id"] for e in overdue] == ["A1"]
    [event] = escalation_events(harness, handle.id)
    assert event.escalation.stage == "capa_action" and event.escalation.action_id == "A1"
    child = harness.client.get_workflow_handle_for(CapaActionWorkflow.run, f"{handle.id}/capa/A1")
    assert (await child.query(CapaActionWorkflow.action_state)).overdue

    new_due = await harness.now() + 7 * DAY
    state = await harness.decide(
        handle,
        Decision.EXTEND,
        ExtendInput(
            actor=make.manager,
            action_id="A1",
            new_due_at=new_due,
            reason="Supplier tooling arrives late; containment in place",
        ),
    )
    assert not state.overdue
    assert state.actions[0].due_at == new_due
    assert state.actions[0].extensions[0].reason.startswith("Supplier tooling")
    moved = harness.entries(handle.id)[-1]
    assert moved.entry_type == "complaint.due_date_moved"
    assert moved.data["input"]["reason"].startswith("Supplier tooling")

    # The child re-armed its timer on the new due date.
    await harness.skip(7 * DAY + HOUR)
    await harness.wait_for(handle, lambda s: s.overdue)
    overdue = [e for e in harness.entries(handle.id) if e.entry_type == "capa.action_overdue"]
    assert len(overdue) == 2
    state = await harness.decide(handle, Decision.COMPLETE_ACTION, make.complete("A1"))
    assert state.status is ComplaintStatus.VERIFYING
    assert not state.overdue
    assert (await child.result()).status is ActionStatus.DONE
    await harness.record(child, "capa-action-overdue-then-extended")


@pytest.mark.clause("ISO 10002:2018 7.9", "ISO 10002:2018 8.4")
async def test_closure_deadline(harness, make):
    handle = await harness.start()
    await harness.decide(
        handle, Decision.TRIAGE, make.triage(severity=Severity.LOW, category="billing")
    )
    await harness.decide(
        handle,
        Decision.DECLINE_INVESTIGATION,
        DeclineInvestigationInput(actor=make.manager, reason="Pricing question, no defect"),
    )
    await harness.skip(4 * 7 * DAY)
    assert escalations(harness, handle.id) == []
    await harness.skip(2 * DAY + HOUR)
    state = await harness.wait_for(handle, lambda s: s.overdue)
    [entry] = escalations(harness, handle.id)
    assert entry.data["stage"] == "closure"
    assert state.next_due.what == "close the complaint" and state.next_due.overdue
    state = await harness.decide(handle, Decision.CLOSE, make.close())
    assert state.status is ComplaintStatus.CLOSED
    assert not state.overdue
    await harness.result(handle)
    await harness.record(handle, "complaint-closure-escalated")


@pytest.mark.clause("ISO 13485:2016 8.2.3")
async def test_critical_reportable_complaint_has_a_regulator_deadline(harness, make):
    handle = await harness.start()
    aware_at = (await harness.state(handle)).received_at - 12 * HOUR
    state = await harness.decide(
        handle,
        Decision.TRIAGE,
        make.triage(
            severity=Severity.CRITICAL,
            reportable=True,
            regulator="FDA",
            reportable_justification="Burn injury reported: MDR 21 CFR 803",
            aware_at=aware_at,
        ),
    )
    regulator = state.active_deadline(DeadlineStage.REGULATOR_REPORT)
    assert regulator.due_at == aware_at + 2 * DAY
    assert state.next_due.what == "report to the regulator"
    assert state.next_due.due_at == aware_at + 2 * DAY
    assert (await handle.describe()).typed_search_attributes.get(search_attributes.REPORTABLE)

    await harness.skip(36 * HOUR + HOUR)
    state = await harness.wait_for(handle, lambda s: s.overdue)
    assert [e.data["stage"] for e in escalations(harness, handle.id)] == ["regulator_report"]

    reason = await harness.refused(
        handle,
        Decision.EXTEND,
        ExtendInput(
            actor=make.manager,
            stage=DeadlineStage.REGULATOR_REPORT,
            new_due_at=await harness.now() + DAY,
            reason="Need more time",
        ),
    )
    assert "set by regulation" in reason

    await harness.decide(
        handle,
        Decision.DECLINE_INVESTIGATION,
        DeclineInvestigationInput(actor=make.manager, reason="Known failure mode, CAPA-2026-7"),
    )
    reason = await harness.refused(handle, Decision.CLOSE, make.close())
    assert "report to the regulator" in reason
    state = await harness.decide(
        handle,
        Decision.RECORD_REGULATORY_REPORT,
        RegulatoryReportInput(actor=make.manager, regulator="FDA", reference="MDR-2026-0042"),
    )
    assert state.active_deadline(DeadlineStage.REGULATOR_REPORT) is None
    state = await harness.decide(handle, Decision.CLOSE, make.close())
    assert state.status is ComplaintStatus.CLOSED
    await harness.result(handle)
    await harness.record(handle, "complaint-critical-reportable-escalated")


async def test_a_stage_deadline_can_be_moved_with_a_reason(harness, make):
    handle = await harness.start()
    await harness.decide(handle, Decision.TRIAGE, make.triage(severity=Severity.HIGH))
    due = (await harness.state(handle)).active_deadline(DeadlineStage.INVESTIGATION).due_at
    state = await harness.decide(
        handle,
        Decision.EXTEND,
        ExtendInput(
            actor=make.manager,
            stage=DeadlineStage.INVESTIGATION,
            new_due_at=due + 10 * DAY,
            reason="Waiting for the supplier's teardown report",
        ),
    )
    deadline = state.active_deadline(DeadlineStage.INVESTIGATION)
    assert deadline.due_at == due + 10 * DAY
    assert deadline.extensions[0].previous_due_at == due
    await harness.skip(16 * DAY)
    assert escalations(harness, handle.id) == []
    await harness.skip(10 * DAY)
    await harness.wait_for(handle, lambda s: s.overdue)
    assert [e.data["stage"] for e in escalations(harness, handle.id)] == ["investigation"]


async def test_timers_survive_a_worker_restart(detached_harness):
    """The deadline is a server-side timer set by the first worker; a new worker, which
    knows the workflow only from its history, escalates it when it fires."""
    harness = detached_harness
    with ThreadPoolExecutor(max_workers=2) as executor:
        async with harness.worker(executor, max_cached_workflows=0):
            handle = await harness.start()
            await harness.quiet(handle.id)
        await harness.skip(DAY)  # no worker for a day (the server's clock moves on)
        async with harness.worker(executor, max_cached_workflows=0):
            await harness.skip(DAY + 12 * HOUR)
            state = await harness.wait_for(handle, lambda s: s.overdue)
            assert [e.data["stage"] for e in escalations(harness, handle.id)] == ["triage"]
            assert state.status is ComplaintStatus.ACKNOWLEDGED
            await harness.terminate_running()
