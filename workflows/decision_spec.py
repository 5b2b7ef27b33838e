"""Each decision defined once: its input, where the lifecycle allows it, what its signature
means, what the audit log calls it, its rules, and what happens after it.

Everything else is derived from `SPECS`: the lifecycle table (`workflows.lifecycle.RULES`),
the rule logic (`workflows.judgment.LOGIC`) and the workflow's Update handlers with
their validators (`workflows.complaint.decision_updates`). Adding a decision means a value in
`schemas.decisions.Decision`, its input model, one `DecisionSpec` here and its `Logic`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from schemas.complaint_state import ComplaintState, ComplaintStatus, SignatureMeaning
from schemas.decisions import (
    AcknowledgeInput,
    ActionProgressInput,
    AddInformationInput,
    CloseInput,
    CompleteActionInput,
    Decision,
    DecisionInput,
    DeclineInvestigationInput,
    ExtendInput,
    InvestigateInput,
    LinkRelatedInput,
    PlanCapaInput,
    RecordSurveyInput,
    RegulatoryReportInput,
    RejectInput,
    ReopenInput,
    RequestInformationInput,
    TriageInput,
    VerifyInput,
)
from workflows.capa_children import CapaChildren
from workflows.rules import Logic, capa, closure, correspondence, intake, investigation, related

S = ComplaintStatus

EVERY_STATE = frozenset(ComplaintStatus)
OPEN_STATES = EVERY_STATE - {S.CLOSED, S.REJECTED}
AFTER_TRIAGE = EVERY_STATE - {S.RECEIVED, S.ACKNOWLEDGED, S.REJECTED}
TERMINAL_STATES = frozenset({S.CLOSED, S.REJECTED})

# What the complaint tells its CAPA children once a decision is audited and applied.
AfterHook = Callable[[CapaChildren, ComplaintState, Any], Awaitable[None]]


@dataclass(frozen=True)
class DecisionSpec:
    decision: Decision
    input_type: type[DecisionInput]
    allowed_in: frozenset[ComplaintStatus]
    meaning: SignatureMeaning
    entry_type: str
    logic: Logic[Any]
    after: AfterHook | None = None


M = SignatureMeaning

# In lifecycle order: `allowed_decisions` lists them in this order.
SPECS: tuple[DecisionSpec, ...] = (
    DecisionSpec(
        Decision.ACKNOWLEDGE,
        AcknowledgeInput,
        frozenset({S.RECEIVED}),
        M.REVIEWED,
        "complaint.acknowledged",
        intake.ACKNOWLEDGE,
    ),
    DecisionSpec(
        Decision.TRIAGE,
        TriageInput,
        frozenset({S.ACKNOWLEDGED, S.TRIAGED, S.INVESTIGATING, S.REOPENED}),
        M.REVIEWED,
        "complaint.triaged",
        intake.TRIAGE,
    ),
    DecisionSpec(
        Decision.INVESTIGATE,
        InvestigateInput,
        frozenset({S.TRIAGED, S.INVESTIGATING, S.REOPENED}),
        M.REVIEWED,
        "complaint.investigated",
        investigation.INVESTIGATE,
    ),
    DecisionSpec(
        Decision.DECLINE_INVESTIGATION,
        DeclineInvestigationInput,
        frozenset({S.TRIAGED, S.INVESTIGATING, S.REOPENED}),
        M.APPROVED,
        "complaint.investigation_declined",
        investigation.DECLINE_INVESTIGATION,
    ),
    DecisionSpec(
        Decision.PLAN_CAPA,
        PlanCapaInput,
        frozenset({S.INVESTIGATING, S.CAPA_PLANNED, S.CAPA_IN_PROGRESS}),
        M.APPROVED,
        "capa.planned",
        capa.PLAN_CAPA,
        after=CapaChildren.start,
    ),
    DecisionSpec(
        Decision.RECORD_ACTION_PROGRESS,
        ActionProgressInput,
        frozenset({S.CAPA_PLANNED, S.CAPA_IN_PROGRESS}),
        M.RECORDED,
        "capa.action_progress",
        capa.RECORD_ACTION_PROGRESS,
        after=CapaChildren.progressed,
    ),
    DecisionSpec(
        Decision.COMPLETE_ACTION,
        CompleteActionInput,
        frozenset({S.CAPA_PLANNED, S.CAPA_IN_PROGRESS}),
        M.APPROVED,
        "capa.action_completed",
        capa.COMPLETE_ACTION,
        after=CapaChildren.completed,
    ),
    DecisionSpec(
        Decision.EXTEND,
        ExtendInput,
        OPEN_STATES,
        M.APPROVED,
        "complaint.due_date_moved",
        capa.EXTEND,
        after=CapaChildren.due_moved,
    ),
    DecisionSpec(
        Decision.VERIFY,
        VerifyInput,
        frozenset({S.VERIFYING}),
        M.VERIFIED,
        "complaint.verified",
        closure.VERIFY,
    ),
    DecisionSpec(
        Decision.CLOSE,
        CloseInput,
        frozenset({S.INVESTIGATING, S.VERIFYING}),
        M.CLOSED,
        "complaint.closed",
        closure.CLOSE,
    ),
    DecisionSpec(
        Decision.REJECT,
        RejectInput,
        frozenset({S.RECEIVED, S.ACKNOWLEDGED, S.TRIAGED, S.INVESTIGATING}),
        M.APPROVED,
        "complaint.rejected",
        intake.REJECT,
    ),
    DecisionSpec(
        Decision.REOPEN,
        ReopenInput,
        frozenset({S.VERIFYING, S.CLOSED}),
        M.APPROVED,
        "complaint.reopened",
        closure.REOPEN,
    ),
    DecisionSpec(
        Decision.ADD_INFORMATION,
        AddInformationInput,
        EVERY_STATE,
        M.RECORDED,
        "complaint.information_added",
        intake.ADD_INFORMATION,
    ),
    DecisionSpec(
        Decision.RECORD_SURVEY,
        RecordSurveyInput,
        EVERY_STATE,
        M.RECORDED,
        "complaint.survey",
        intake.RECORD_SURVEY,
    ),
    DecisionSpec(
        Decision.RECORD_REGULATORY_REPORT,
        RegulatoryReportInput,
        AFTER_TRIAGE,
        M.RECORDED,
        "complaint.regulator_reported",
        intake.RECORD_REGULATORY_REPORT,
    ),
    DecisionSpec(
        Decision.REQUEST_INFORMATION,
        RequestInformationInput,
        OPEN_STATES,
        M.RECORDED,
        "complaint.information_requested",
        correspondence.REQUEST_INFORMATION,
    ),
    DecisionSpec(
        Decision.LINK_RELATED,
        LinkRelatedInput,
        OPEN_STATES,
        M.REVIEWED,
        "complaint.linked_related",
        related.LINK_RELATED,
    ),
)

SPEC: dict[Decision, DecisionSpec] = {spec.decision: spec for spec in SPECS}
