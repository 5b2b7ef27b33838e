"""Every illegal decision is refused by its validator, says why, and leaves no trace: no
Update event in the workflow's history, no entry in the audit log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from schemas.complaint_state import ComplaintStatus
from schemas.deadlines import DeadlinePolicy
from schemas.decisions import (
    AcknowledgeInput,
    ActionProgressInput,
    AddInformationInput,
    DeadlineStage,
    Decision,
    DeclineInvestigationInput,
    ExtendInput,
    LinkRelatedInput,
    RecordSurveyInput,
    RegulatoryReportInput,
    RejectInput,
    RejectReason,
    ReopenInput,
    ReopenReason,
    RequestInformationInput,
)
from workflows import lifecycle

S = ComplaintStatus
MANUAL_ACK = DeadlinePolicy(auto_acknowledge=False)


def sample_inputs(make, now):
    """A well-formed input for every decision: only the complaint's state makes it illegal."""
    return {
        Decision.ACKNOWLEDGE: AcknowledgeInput(actor=make.handler),
        Decision.TRIAGE: make.triage(),
        Decision.INVESTIGATE: make.investigate(),
        Decision.DECLINE_INVESTIGATION: DeclineInvestigationInput(
            actor=make.manager, reason="No defect"
        ),
        Decision.PLAN_CAPA: make.plan(make.action("Z9", now + timedelta(days=10))),
        Decision.RECORD_ACTION_PROGRESS: ActionProgressInput(
            actor=make.owner, action_id="A1", note="Half done"
        ),
        Decision.COMPLETE_ACTION: make.complete("A1"),
        Decision.EXTEND: ExtendInput(
            actor=make.manager,
            stage=DeadlineStage.CLOSURE,
            new_due_at=now + timedelta(days=200),
            reason="More time",
        ),
        Decision.VERIFY: make.verify(),
        Decision.CLOSE: make.close(),
        Decision.REJECT: RejectInput(
            actor=make.handler, reason=RejectReason.NOT_A_COMPLAINT, explanation="A question"
        ),
        Decision.REOPEN: ReopenInput(
            actor=make.manager, reason=ReopenReason.RECURRENCE, explanation="Failed again"
        ),
        Decision.ADD_INFORMATION: AddInformationInput(actor=make.handler, information="x"),
        Decision.RECORD_SURVEY: RecordSurveyInput(actor=make.handler, csat=3),
        Decision.RECORD_REGULATORY_REPORT: RegulatoryReportInput(
            actor=make.manager, regulator="FDA", reference="MDR-1"
        ),
        Decision.REQUEST_INFORMATION: RequestInformationInput(
            actor=make.handler, question="When did you buy it?"
        ),
        Decision.LINK_RELATED: LinkRelatedInput(
            actor=make.handler, related_to="C-OTHER-1", explanation="Same fault"
        ),
    }


async def drive_to(harness, make, target: ComplaintStatus):
    """A complaint in `target`, reached through the legal path."""
    handle = await harness.start()
    now = await harness.now()
    steps: list[tuple[ComplaintStatus, Any, Any]] = [
        (S.ACKNOWLEDGED, Decision.ACKNOWLEDGE, AcknowledgeInput(actor=make.handler)),
    ]
    if target is S.REJECTED:
        steps.append((S.REJECTED, Decision.REJECT, sample_inputs(make, now)[Decision.REJECT]))
    steps += [
        (S.TRIAGED, Decision.TRIAGE, make.triage()),
        (S.INVESTIGATING, Decision.INVESTIGATE, make.investigate()),
        (
            S.CAPA_PLANNED,
            Decision.PLAN_CAPA,
            make.plan(make.action("A1", now + timedelta(days=10))),
        ),
        (
            S.CAPA_IN_PROGRESS,
            Decision.RECORD_ACTION_PROGRESS,
            ActionProgressInput(actor=make.owner, action_id="A1", note="Tooling ordered"),
        ),
        (S.VERIFYING, Decision.COMPLETE_ACTION, make.complete("A1")),
    ]
    if target is S.REOPENED:
        steps.append((S.REOPENED, Decision.REOPEN, sample_inputs(make, now)[Decision.REOPEN]))
    steps += [
        (S.VERIFYING, Decision.VERIFY, make.verify(override_wait_reason="Test")),
        (S.CLOSED, Decision.CLOSE, make.close()),
    ]
    if target is S.RECEIVED:
        return handle
    for status, update, request in steps:
        state = await harness.decide(handle, update, request)
        assert state.status is status
        if status is target and update is not Decision.COMPLETE_ACTION:
            return handle
        if status is target and target is S.VERIFYING:
            return handle
    raise AssertionError(f"never reached {target}")


@pytest.mark.clause("21 CFR 11.10(f)")
@pytest.mark.parametrize("policy", [MANUAL_ACK])
@pytest.mark.parametrize("status", list(ComplaintStatus))
async def test_every_illegal_decision_is_refused(harness, make, policy, status):
    handle = await drive_to(harness, make, status)
    state = await harness.state(handle)
    assert state.status is status
    inputs = sample_inputs(make, await harness.now())
    illegal = [d for d in Decision if not lifecycle.is_allowed(d, status)]
    assert illegal or status is S.REOPENED
    for decision in illegal:
        reason = await harness.refused(handle, decision, inputs[decision])
        assert f"complaint {handle.id} is {status}; {decision} is not allowed" in reason
        assert "allowed decisions: " + ", ".join(state.allowed_decisions) in reason
    assert (await harness.state(handle)).history == state.history


async def test_decisions_the_rules_refuse(harness, make):
    handle = await harness.start()
    now = await harness.now()
    reason = await harness.refused(
        handle, Decision.TRIAGE, make.triage(aware_at=now + timedelta(days=1))
    )
    assert "aware_at" in reason and "in the future" in reason

    stale = (await harness.state(handle)).state_hash
    await harness.decide(handle, Decision.TRIAGE, make.triage())
    reason = await harness.refused(
        handle, Decision.INVESTIGATE, make.investigate(expected_state_hash=stale)
    )
    assert "changed since state" in reason

    await harness.decide(handle, Decision.INVESTIGATE, make.investigate(final=False))
    reason = await harness.refused(
        handle,
        Decision.PLAN_CAPA,
        make.plan(make.action("A1", now + timedelta(days=3))),
    )
    assert "plan_capa needs a concluded investigation" in reason
    reason = await harness.refused(handle, Decision.CLOSE, make.close())
    assert "close needs a decision not to investigate" in reason

    await harness.decide(handle, Decision.INVESTIGATE, make.investigate())
    reason = await harness.refused(
        handle,
        Decision.PLAN_CAPA,
        make.plan(
            make.action("A1", now + timedelta(days=3)), make.action("A1", now + timedelta(days=4))
        ),
    )
    assert "repeat" in reason
    reason = await harness.refused(
        handle, Decision.PLAN_CAPA, make.plan(make.action("A1", now - timedelta(days=1)))
    )
    assert "must be in the future" in reason

    await harness.decide(
        handle, Decision.PLAN_CAPA, make.plan(make.action("A1", now + timedelta(days=3)))
    )
    reason = await harness.refused(
        handle,
        Decision.PLAN_CAPA,
        make.plan(make.action("A1", now + timedelta(days=3))),
    )
    assert "already has actions A1" in reason
    reason = await harness.refused(handle, Decision.COMPLETE_ACTION, make.complete("B7"))
    assert "no CAPA action B7 (actions: A1)" in reason
    reason = await harness.refused(
        handle,
        Decision.EXTEND,
        ExtendInput(
            actor=make.manager,
            action_id="A1",
            new_due_at=now - timedelta(hours=1),
            reason="Late",
        ),
    )
    assert "must be in the future" in reason
    reason = await harness.refused(
        handle,
        Decision.RECORD_REGULATORY_REPORT,
        RegulatoryReportInput(actor=make.manager, regulator="FDA", reference="MDR-1"),
    )
    assert "needs a triage that found the complaint reportable" in reason

    await harness.decide(
        handle, Decision.PLAN_CAPA, make.plan(make.action("A2", now + timedelta(days=3)))
    )
    await harness.decide(handle, Decision.COMPLETE_ACTION, make.complete("A1"))
    reason = await harness.refused(handle, Decision.COMPLETE_ACTION, make.complete("A1"))
    assert "A1 is already done" in reason
    await harness.decide(handle, Decision.COMPLETE_ACTION, make.complete("A2"))
    reason = await harness.refused(handle, Decision.CLOSE, make.close())
    assert "close needs a verification that found the actions effective" in reason
    reason = await harness.refused(handle, Decision.VERIFY, make.verify())
    assert "planned for" in reason


async def test_reject_as_duplicate_of_itself_is_refused(harness, make):
    handle = await harness.start()
    reason = await harness.refused(
        handle,
        Decision.REJECT,
        RejectInput(
            actor=make.handler,
            reason=RejectReason.DUPLICATE,
            duplicate_of=handle.id,
            explanation="Same",
        ),
    )
    assert "duplicate of itself" in reason
