"""The lifecycle table, the rules and the deadline bookkeeping, without Temporal."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import rfc8785
from temporalio import workflow

from schemas.complaint_state import DERIVED_FIELDS, ComplaintState, ComplaintStatus, Signed
from schemas.deadlines import DeadlinePolicy
from schemas.decisions import (
    CUSTOMER_ACTIVITY_SIGNAL,
    STATE_QUERY,
    Actor,
    CapaActionPlan,
    CapaKind,
    CompleteActionInput,
    DeadlineStage,
    Decision,
    ExtendInput,
    InvestigateInput,
    PlanCapaInput,
    RecordSurveyInput,
    RejectInput,
    Severity,
    TriageInput,
)
from schemas.events import Channel, ComplaintReceived, Customer, Product
from workflows import deadlines, lifecycle
from workflows.complaint import ComplaintWorkflow
from workflows.judgment import LOGIC, allowed_decisions, judge
from workflows.rules import Refused
from workflows.signature import LATER_FIELDS, state_hash

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ACTOR = Actor(id="qe.smith", name="Sam Smith")


def new_state(**changes) -> ComplaintState:
    complaint = ComplaintReceived(
        event_id=uuid.uuid4(),
        occurred_at=NOW,
        source="web-shop",
        complaint_id="C-1",
        customer=Customer(id="CUST-1"),
        product=Product(sku="KET-200"),
        channel=Channel.WEB,
        summary="Switch does not turn off",
        description="",
    )
    fields = {
        "complaint_id": "C-1",
        "status": ComplaintStatus.ACKNOWLEDGED,
        "complaint": complaint,
        "received_at": NOW,
    }
    return ComplaintState(**{**fields, **changes})


def triage(**changes) -> TriageInput:
    fields = {
        "actor": ACTOR,
        "severity": Severity.HIGH,
        "category": "safety",
        "risk_rationale": "r",
        "assignee": "qe.smith",
        "reportable": False,
        "reportable_justification": "j",
    }
    return TriageInput(**{**fields, **changes})


def due(state: ComplaintState, stage: DeadlineStage) -> datetime:
    deadline = state.active_deadline(stage)
    assert deadline is not None, f"no open {stage} deadline"
    return deadline.due_at


def signed(at: datetime = NOW) -> Signed:
    return Signed(by=ACTOR, at=at)


def test_every_decision_is_an_update_with_a_validator():
    definition = workflow._Definition.from_class(ComplaintWorkflow)
    assert definition is not None
    assert set(definition.updates) == {d.value for d in Decision}
    assert all(update.validator is not None for update in definition.updates.values())
    assert CUSTOMER_ACTIVITY_SIGNAL in definition.signals
    assert STATE_QUERY in definition.queries
    assert set(LOGIC) == set(Decision) == set(lifecycle.RULES)


@pytest.mark.clause("21 CFR 11.10(f)")
def test_the_lifecycle_table():
    assert lifecycle.allowed_in(ComplaintStatus.RECEIVED)[0] is Decision.ACKNOWLEDGE
    assert Decision.CLOSE in lifecycle.allowed_in(ComplaintStatus.VERIFYING)
    for status in lifecycle.TERMINAL_STATES:
        assert not lifecycle.is_allowed(Decision.TRIAGE, status)
        assert lifecycle.is_allowed(Decision.RECORD_SURVEY, status)
    assert lifecycle.allowed_in(ComplaintStatus.REJECTED) == [
        Decision.ADD_INFORMATION,
        Decision.RECORD_SURVEY,
    ]
    assert lifecycle.is_allowed(Decision.REOPEN, ComplaintStatus.CLOSED)
    entry_types = [rule.entry_type for rule in lifecycle.RULES.values()]
    assert len(set(entry_types)) == len(entry_types)
    assert all(len(name) <= 64 for name in entry_types)  # the audit log's limit


def test_refusal_names_the_state_and_the_allowed_decisions():
    state = new_state()
    with pytest.raises(Refused) as refused:
        judge(
            state,
            Decision.INVESTIGATE,
            InvestigateInput(actor=ACTOR, method="five_whys", root_causes=["x"]),
            NOW,
        )
    assert str(refused.value) == (
        "complaint C-1 is acknowledged; investigate is not allowed; allowed decisions: "
        "triage, extend, reject, add_information, record_survey, request_information, "
        "link_related"
    )


@pytest.mark.clause("ISO 10002:2018 7.5")
def test_triage_opens_the_deadlines_of_its_severity():
    state = new_state()
    LOGIC[Decision.TRIAGE].apply(
        state, triage(reportable=True, severity=Severity.CRITICAL), signed()
    )
    assert state.status is ComplaintStatus.TRIAGED
    policy = DeadlinePolicy()
    assert due(state, DeadlineStage.INVESTIGATION) == NOW + policy.investigation.critical
    assert due(state, DeadlineStage.CLOSURE) == NOW + policy.closure.critical
    assert due(state, DeadlineStage.REGULATOR_REPORT) == NOW + timedelta(days=2)
    next_due = deadlines.next_due(state)
    assert next_due is not None and next_due.what == "report to the regulator"

    # Re-triage to low severity and not reportable: dues recomputed, regulator clock stops.
    later = NOW + timedelta(hours=5)
    LOGIC[Decision.TRIAGE].apply(state, triage(severity=Severity.LOW), signed(later))
    assert due(state, DeadlineStage.INVESTIGATION) == NOW + timedelta(days=30)
    assert state.active_deadline(DeadlineStage.REGULATOR_REPORT) is None
    assert state.status is ComplaintStatus.TRIAGED


def test_next_to_escalate_skips_escalated_deadlines():
    state = new_state()
    LOGIC[Decision.TRIAGE].apply(state, triage(), signed())
    first = deadlines.next_to_escalate(state)
    assert first is not None and first.stage is DeadlineStage.INVESTIGATION
    first.escalated_at = first.due_at
    second = deadlines.next_to_escalate(state)
    assert second is not None and second.stage is DeadlineStage.CLOSURE
    assert deadlines.is_overdue(state)
    deadlines.meet(state, DeadlineStage.INVESTIGATION, at=NOW + timedelta(days=16))
    assert not deadlines.is_overdue(state)


def test_allowed_decisions_consider_what_the_rules_need():
    state = new_state()
    LOGIC[Decision.TRIAGE].apply(state, triage(), signed())
    LOGIC[Decision.INVESTIGATE].apply(
        state,
        InvestigateInput(actor=ACTOR, method="fishbone", root_causes=["x"], final=False),
        signed(),
    )
    allowed = allowed_decisions(state, NOW)
    assert Decision.PLAN_CAPA not in allowed and Decision.CLOSE not in allowed
    LOGIC[Decision.INVESTIGATE].apply(
        state,
        InvestigateInput(actor=ACTOR, method="fishbone", root_causes=["x"], capa_needed=False),
        signed(),
    )
    allowed = allowed_decisions(state, NOW)
    assert Decision.PLAN_CAPA in allowed and Decision.CLOSE in allowed


def test_reject_cancels_every_deadline():
    state = new_state()
    LOGIC[Decision.TRIAGE].apply(state, triage(reportable=True), signed())
    LOGIC[Decision.REJECT].apply(
        state,
        RejectInput(actor=ACTOR, reason="not_a_complaint", explanation="A question"),
        signed(),
    )
    assert state.status is ComplaintStatus.REJECTED
    assert all(d.resolution == "cancelled" for d in state.deadlines)
    assert deadlines.next_due(state) is None


@pytest.mark.clause("21 CFR 11.70")
def test_state_hash_is_stable_and_covers_the_state():
    state = new_state()
    assert state_hash(state) == state_hash(state.model_copy(deep=True))
    derived = state.model_copy(update={"allowed_decisions": [Decision.TRIAGE], "state_hash": "x"})
    assert state_hash(derived) == state_hash(state)
    LOGIC[Decision.RECORD_SURVEY].apply(state, RecordSurveyInput(actor=ACTOR, csat=5), signed())
    assert state_hash(state) != state_hash(new_state())


def test_state_hash_is_sha256_of_the_rfc8785_encoding_any_library_gives():
    """Recomputable outside Closeloop: the independent `rfc8785` library agrees."""
    state = new_state()
    LOGIC[Decision.RECORD_SURVEY].apply(state, RecordSurveyInput(actor=ACTOR, csat=5), signed())
    document = state.model_dump(mode="json", exclude=set(DERIVED_FIELDS))
    for name in LATER_FIELDS:  # fields added later are left out while empty
        if not document[name]:
            del document[name]
    assert state_hash(state) == hashlib.sha256(rfc8785.dumps(document)).hexdigest()


def test_deadline_policy_overrides_one_severity():
    policy = DeadlinePolicy.model_validate({"investigation": {"high": "P10D"}, "triage": "PT12H"})
    assert policy.investigation.high == timedelta(days=10)
    assert policy.investigation.critical == timedelta(days=5)
    assert policy.triage == timedelta(hours=12)
    assert policy.regulator_report.for_severity(Severity.CRITICAL) == timedelta(days=2)


@pytest.mark.parametrize(
    ("model", "fields", "marker"),
    [
        (
            "InvestigateInput",
            {"method": "other", "root_causes": ["x"]},
            "{field:method_detail}",
        ),
        (
            "ExtendInput",
            {"new_due_at": NOW, "reason": "x"},
            "{field:action_id} or {field:stage}",
        ),
        ("RejectInput", {"reason": "duplicate", "explanation": "x"}, "{field:duplicate_of}"),
        ("RecordSurveyInput", {}, "{field:csat}, {field:nps}"),
    ],
)
def test_input_validation_names_fields_with_markers(model, fields, marker):
    from pydantic import ValidationError

    from schemas import decisions

    with pytest.raises(ValidationError) as raised:
        getattr(decisions, model)(actor=ACTOR, **fields)
    assert marker in raised.value.errors()[0]["msg"]


def capa_in_progress(verification_wait: timedelta | None) -> ComplaintState:
    """A triaged complaint with one planned action A1 due in ten days."""
    state = new_state()
    LOGIC[Decision.TRIAGE].apply(state, triage(), signed())
    state.status = ComplaintStatus.INVESTIGATING
    plan = PlanCapaInput(
        actor=ACTOR,
        actions=[
            CapaActionPlan(
                id="A1",
                description="Replace supplier",
                kind=CapaKind.CORRECTIVE,
                owner="eng.park",
                due_at=NOW + timedelta(days=10),
            )
        ],
        verification_wait=verification_wait,
    )
    LOGIC[Decision.PLAN_CAPA].apply(state, plan, signed())
    return state


def complete_a1(state: ComplaintState, at: datetime) -> None:
    request = CompleteActionInput(actor=ACTOR, action_id="A1", evidence=["erp://ncr/1"])
    LOGIC[Decision.COMPLETE_ACTION].apply(state, request, signed(at))


def test_a_zero_verification_wait_means_verify_right_away():
    state = capa_in_progress(verification_wait=timedelta(0))
    done_at = NOW + timedelta(days=3)
    complete_a1(state, done_at)
    assert state.verification_wait == timedelta(0)
    assert state.verification_not_before == done_at


def test_no_verification_wait_means_the_policy_wait():
    state = capa_in_progress(verification_wait=None)
    done_at = NOW + timedelta(days=3)
    complete_a1(state, done_at)
    assert state.verification_not_before == done_at + DeadlinePolicy().verification_wait


def extend_a1(new_due_at: datetime, **changes) -> ExtendInput:
    return ExtendInput(
        actor=ACTOR, action_id="A1", new_due_at=new_due_at, reason="Supplier ready", **changes
    )


def test_a_due_date_moves_earlier_only_when_asked_explicitly():
    state = capa_in_progress(verification_wait=None)
    earlier = NOW + timedelta(days=5)
    with pytest.raises(Refused) as refused:
        judge(state, Decision.EXTEND, extend_a1(earlier), NOW)
    assert "earlier than the current one" in str(refused.value)
    assert "{field:allow_earlier}" in refused.value.template
    request = extend_a1(earlier, allow_earlier=True)
    judge(state, Decision.EXTEND, request, NOW)
    what = LOGIC[Decision.EXTEND].apply(state, request, signed())
    action = state.action("A1")
    assert action is not None and action.due_at == earlier
    assert "brought forward" in what


def test_a_due_date_never_moves_into_the_past_even_when_asked():
    state = capa_in_progress(verification_wait=None)
    with pytest.raises(Refused) as refused:
        judge(state, Decision.EXTEND, extend_a1(NOW - timedelta(hours=1), allow_earlier=True), NOW)
    assert "must be in the future" in str(refused.value)


def test_a_stage_deadline_moves_earlier_only_when_asked_explicitly():
    state = new_state()
    LOGIC[Decision.TRIAGE].apply(state, triage(), signed())
    earlier = due(state, DeadlineStage.CLOSURE) - timedelta(days=1)
    request = ExtendInput(
        actor=ACTOR, stage=DeadlineStage.CLOSURE, new_due_at=earlier, reason="Customer visit"
    )
    with pytest.raises(Refused):
        judge(state, Decision.EXTEND, request, NOW)
    judge(state, Decision.EXTEND, request.model_copy(update={"allow_earlier": True}), NOW)
