"""Workflow payload types: the state of one complaint as its workflow holds it.

`ComplaintState` is what the `current_state` query returns: what happened, who decided, what
is due next and by when (an Update returns a `schemas.outcomes.DecisionReceipt`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, Field

from schemas.customer_message import MessagePolicy, MessageRecord
from schemas.deadlines import DeadlinePolicy
from schemas.decisions import (
    Actor,
    CapaKind,
    CustomerActivityInput,
    DeadlineStage,
    Decision,
    InvestigationMethod,
    RejectReason,
    ReopenReason,
    Severity,
)
from schemas.events import Channel, ComplaintReceived
from schemas.outcomes import DecisionReceipt
from schemas.reporting_rules import EventClass, Market, ReportKind
from schemas.similarity import SimilarityResult
from schemas.unset import OmitWhenNone


class ComplaintStatus(StrEnum):
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    TRIAGED = "triaged"
    INVESTIGATING = "investigating"
    CAPA_PLANNED = "capa_planned"
    CAPA_IN_PROGRESS = "capa_in_progress"
    VERIFYING = "verifying"
    CLOSED = "closed"
    REJECTED = "rejected"
    REOPENED = "reopened"


class SignatureMeaning(StrEnum):
    """What a signer attests (21 CFR 11.50). `recorded`: a fact relayed, not a judgment."""

    REVIEWED = "reviewed"
    APPROVED = "approved"
    VERIFIED = "verified"
    CLOSED = "closed"
    RECORDED = "recorded"


class HistoryItem(BaseModel):
    """One thing that happened to the complaint, as the query shows it to operators."""

    at: datetime
    status: ComplaintStatus
    what: str
    actor: str
    actor_name: str = ""
    decision: str | None = None
    meaning: SignatureMeaning | None = None
    comment: str = ""
    audit_seq: int | None = None


class Signed(BaseModel):
    """Who recorded a decision, when (workflow time) and in which reopen loop."""

    by: Actor
    at: datetime
    loop: int = 0
    comment: str = ""


class Acknowledgment(Signed):
    channel: Channel
    message: str = ""


class TriageRecord(Signed):
    severity: Severity
    category: str
    risk_rationale: str
    assignee: str
    reportable: bool
    reportable_justification: str
    regulator: str | None = None
    aware_at: datetime


class InvestigationRecord(Signed):
    method: InvestigationMethod
    method_detail: str = ""
    root_causes: list[str]
    contributing_factors: list[str] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    final: bool = True
    capa_needed: bool = True


class InvestigationDeclined(Signed):
    reason: str


class ActionStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class ActionProgress(Signed):
    note: str
    percent_complete: int | None = None
    evidence: list[str] = Field(default_factory=list)


class DueDateChange(Signed):
    previous_due_at: datetime
    new_due_at: datetime
    reason: str


class CapaAction(BaseModel):
    """One CAPA action as the complaint sees it; its child workflow holds the same lifecycle."""

    id: str
    description: str
    kind: CapaKind
    owner: str
    due_at: datetime
    planned: Signed
    workflow_id: str
    status: ActionStatus = ActionStatus.OPEN
    overdue: bool = False
    progress: list[ActionProgress] = Field(default_factory=list)
    extensions: list[DueDateChange] = Field(default_factory=list)
    completed: Signed | None = None
    evidence: list[str] = Field(default_factory=list)
    summary: str = ""


class VerificationRecord(Signed):
    effective: bool
    evidence: list[str]
    override_wait_reason: str | None = None


class ClosureRecord(Signed):
    customer_response: str
    response_channel: Channel | None = None


class RejectionRecord(Signed, OmitWhenNone):
    # Left out while unset, so a rejected state from before hashes as it did.
    omit_when_none = frozenset({"customer_response"})

    reason: RejectReason
    explanation: str
    duplicate_of: str | None = None
    customer_response: str | None = None


class RelatedLink(Signed):
    """An operator's link to a related complaint, with what the lookup had scored (if it
    suggested that complaint): the audit entry of the decision holds the same."""

    complaint_id: str
    explanation: str
    score: float | None = None
    method: str | None = None
    method_version: str | None = None


class ReopenRecord(Signed):
    reason: ReopenReason
    explanation: str
    from_status: ComplaintStatus


class InformationRecord(Signed):
    information: str
    attachments: list[str] = Field(default_factory=list)
    source: str = "customer"


class SurveyRecord(Signed):
    csat: int | None = None
    nps: int | None = None
    verbatim: str = ""
    survey_id: str | None = None


class InformationRequest(Signed):
    """A question asked of the complainant; its message is `information_request` #n."""

    question: str


class RegulatoryReport(Signed, OmitWhenNone):
    omit_when_none = frozenset({"market", "kind"})

    regulator: str
    reference: str
    submitted_at: datetime
    market: Market | None = None
    kind: ReportKind | None = None


class RequiredReport(BaseModel):
    """One report a triage found owed, from the rules table (`schemas.reporting_rules`)."""

    market: Market
    kind: ReportKind
    title: str
    regulator: str
    legal_basis: str
    clock: str
    due_at: datetime

    @property
    def key(self) -> str:
        return report_key(self.market, self.kind)

    @property
    def label(self) -> str:
        return self.title  # names its regulation, hence its market


def report_key(market: Market, kind: ReportKind) -> str:
    return f"{market.value}:{kind.value}"


class ReportingPlan(BaseModel):
    """What triage decided about reporting, under which version of the rules table."""

    rules_version: str
    markets: list[Market]
    event_class: EventClass | None = None
    remedial_action: bool = False
    aware_at: datetime
    required: list[RequiredReport] = Field(default_factory=list)


class CustomerActivity(BaseModel):
    event_id: str
    activity: str
    occurred_at: datetime
    recorded_at: datetime


class DeadlineResolution(StrEnum):
    MET = "met"
    CANCELLED = "cancelled"


class Deadline(OmitWhenNone):
    """One durable deadline: opened, maybe escalated, then met or cancelled. A regulator
    deadline of a per-market reporting plan names its report (`report`, `what`)."""

    omit_when_none = frozenset({"report", "what"})

    stage: DeadlineStage
    report: str | None = None
    what: str | None = None
    loop: int = 0
    opened_at: datetime
    due_at: datetime
    escalated_at: datetime | None = None
    resolved_at: datetime | None = None
    resolution: DeadlineResolution | None = None
    extensions: list[DueDateChange] = Field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.resolved_at is None


class NextDue(BaseModel):
    what: str
    due_at: datetime
    overdue: bool = False


class ComplaintState(OmitWhenNone):
    """Everything an operator needs on one screen, and everything a signature covers."""

    omit_when_none = frozenset({"reporting_rules", "reporting"})

    complaint_id: str
    status: ComplaintStatus
    complaint: ComplaintReceived
    received_at: datetime
    policy: DeadlinePolicy = Field(default_factory=DeadlinePolicy)
    acknowledged_at: datetime | None = None
    acknowledgment: Acknowledgment | None = None
    triage: TriageRecord | None = None
    loop: int = Field(default=0, description="how many times the complaint was reopened")
    investigations: list[InvestigationRecord] = Field(default_factory=list)
    investigation_declined: list[InvestigationDeclined] = Field(default_factory=list)
    actions: list[CapaAction] = Field(default_factory=list)
    verification_wait: timedelta | None = None
    verification_not_before: datetime | None = None
    verifications: list[VerificationRecord] = Field(default_factory=list)
    closure: ClosureRecord | None = None
    rejection: RejectionRecord | None = None
    reopenings: list[ReopenRecord] = Field(default_factory=list)
    information: list[InformationRecord] = Field(default_factory=list)
    surveys: list[SurveyRecord] = Field(default_factory=list)
    regulatory_reports: list[RegulatoryReport] = Field(default_factory=list)
    reporting_rules: str | None = Field(
        default=None, description="version of the reporting rules table this case started with"
    )
    reporting: ReportingPlan | None = None
    customer_activity_count: int = 0
    customer_activity: list[CustomerActivity] = Field(
        default_factory=list, description="the most recent customer activity only"
    )
    deadlines: list[Deadline] = Field(default_factory=list)
    overdue: bool = False
    status_events_published: int = 0
    # Messages to the complainant (workflows/correspondence.py); None: a case from before.
    message_policy: MessagePolicy | None = None
    messages: list[MessageRecord] = Field(default_factory=list)
    information_requests: list[InformationRequest] = Field(default_factory=list)
    history: list[HistoryItem] = Field(default_factory=list)
    # Similar earlier complaints found at intake (None: no lookup in this case's run), and
    # the links operators confirmed. Left out of the state hash while unset (see
    # workflows.signature), so cases from before hash as they did.
    similar: SimilarityResult | None = None
    related: list[RelatedLink] = Field(default_factory=list)
    # Derived when the state is read; not covered by the state hash.
    next_due: NextDue | None = None
    allowed_decisions: list[Decision] = Field(default_factory=list)
    state_hash: str = ""

    @property
    def severity(self) -> Severity | None:
        return self.triage.severity if self.triage else None

    @property
    def assignee(self) -> str | None:
        return self.triage.assignee if self.triage else None

    @property
    def reportable(self) -> bool:
        return bool(self.triage and self.triage.reportable)

    def current_loop_investigations(self) -> list[InvestigationRecord]:
        return [record for record in self.investigations if record.loop == self.loop]

    def current_loop_actions(self) -> list[CapaAction]:
        return [action for action in self.actions if action.planned.loop == self.loop]

    def action(self, action_id: str) -> CapaAction | None:
        return next((action for action in self.actions if action.id == action_id), None)

    def active_deadline(self, stage: DeadlineStage) -> Deadline | None:
        return next((d for d in self.deadlines if d.stage is stage and d.active), None)


DERIVED_FIELDS = frozenset({"next_due", "allowed_decisions", "state_hash"})
# Fields added after cases existed: out of the state hash while they hold their default.
HASHED_WHEN_SET = ("similar", "related")


class CarriedOver(BaseModel):
    """What a complaint's workflow hands to its next run when it continues as new: the state,
    the de-duplication memories and the CAPA actions whose child workflows still run (started
    with ParentClosePolicy ABANDON, so they outlive the run that started them)."""

    state: ComplaintState
    applied: list[DecisionReceipt] = Field(default_factory=list)
    seen_events: list[str] = Field(default_factory=list)
    running_actions: list[str] = Field(default_factory=list)
    pending_activity: list[CustomerActivityInput] = Field(
        default_factory=list, description="signalled while handing over: for the next run"
    )
