"""Inputs of the decisions and facts a complaint's workflow accepts (Temporal Updates, one Signal).

Every input carries who (`actor`), why (`comment`) and, when it comes from another system, the
id of the event it came from (`event_id`). Callers that relay an event use that event id as
the Temporal Update id, so a redelivered event is applied, and audited, exactly once:

    await handle.execute_update(
        Decision.INVESTIGATE, InvestigateInput(...), id=str(event_id)
    )

(`base.complaints.send_decision` does this and returns the `schemas.outcomes.DecisionReceipt`.)
Validation messages name fields with `schemas.markers.field_ref` markers, never bare.

Operators' commands use a fresh UUID as the Update id (`--update-id` to retry one).
The handler names are the values of `Decision`; `CUSTOMER_ACTIVITY_SIGNAL` is a Signal.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Self

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
    model_validator,
)

from schemas.events import Channel
from schemas.markers import field_ref
from schemas.reporting_rules import EventClass, Market, ReportKind

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=512)]
ActionId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,32}$")]


class Decision(StrEnum):
    """The Temporal Update names of `ComplaintWorkflow`, one per decision or fact."""

    ACKNOWLEDGE = "acknowledge"
    TRIAGE = "triage"
    INVESTIGATE = "investigate"
    DECLINE_INVESTIGATION = "decline_investigation"
    PLAN_CAPA = "plan_capa"
    RECORD_ACTION_PROGRESS = "record_action_progress"
    COMPLETE_ACTION = "complete_action"
    EXTEND = "extend"
    VERIFY = "verify"
    CLOSE = "close"
    REJECT = "reject"
    REOPEN = "reopen"
    ADD_INFORMATION = "add_information"
    RECORD_SURVEY = "record_survey"
    RECORD_REGULATORY_REPORT = "record_regulatory_report"
    REQUEST_INFORMATION = "request_information"
    LINK_RELATED = "link_related"


# The workflow type that carries one complaint: clients start it by this name.
COMPLAINT_WORKFLOW = "ComplaintWorkflow"
CUSTOMER_ACTIVITY_SIGNAL = "record_customer_activity"
MESSAGE_DELIVERY_SIGNAL = "record_message_delivery"
STATE_QUERY = "current_state"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class InvestigationMethod(StrEnum):
    FIVE_WHYS = "five_whys"
    FISHBONE = "fishbone"
    FAULT_TREE = "fault_tree"
    OTHER = "other"


class CapaKind(StrEnum):
    CORRECTION = "correction"  # fix this instance (replace, refund, rework)
    CORRECTIVE = "corrective"  # remove the root cause so it does not recur
    PREVENTIVE = "preventive"  # remove a potential cause elsewhere


class RejectReason(StrEnum):
    NOT_A_COMPLAINT = "not_a_complaint"
    DUPLICATE = "duplicate"


class ReopenReason(StrEnum):
    RECURRENCE = "recurrence"
    VERIFICATION_FAILED = "verification_failed"
    NEW_INFORMATION = "new_information"


class DeadlineStage(StrEnum):
    """The complaint-level deadlines; CAPA actions carry their own due dates."""

    ACKNOWLEDGE = "acknowledge"
    TRIAGE = "triage"
    INVESTIGATION = "investigation"
    VERIFICATION = "verification"
    CLOSURE = "closure"
    REGULATOR_REPORT = "regulator_report"
    # The acknowledgment reached the complainant (confirmed by its deliverer).
    ACKNOWLEDGMENT_DELIVERY = "acknowledgment_delivery"


class Actor(BaseModel):
    """Who decided: a stable id (user name, service account) and a readable name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Name
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=256)] = ""

    @property
    def label(self) -> str:
        return f"{self.name} ({self.id})" if self.name else self.id


class DecisionInput(BaseModel):
    """What every decision and fact carries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    actor: Actor
    comment: Text = ""
    event_id: Reference | None = Field(
        default=None, description="id of the upstream event; use it as the Update id too"
    )
    occurred_at: AwareDatetime | None = Field(
        default=None, description="when it happened upstream; the decision time is workflow time"
    )
    expected_state_hash: str | None = Field(
        default=None,
        description="state_hash the signer reviewed; refused if the complaint changed since",
    )
    authenticated: bool | None = Field(
        default=None,
        description="false when the CLI sent it in development mode without sign-in "
        "(CLOSELOOP_DEV_UNAUTHENTICATED); absent otherwise",
    )

    # Fields added after decisions were first recorded: left out while None, like
    # `authenticated`, so older payloads and audit entries stay byte for byte the same.
    omit_when_none: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit_unmarked(self, handler: SerializerFunctionWrapHandler) -> Any:
        # Only a marked decision carries the field, so every other payload and audit entry
        # stays byte for byte what it was (saved histories replay unchanged).
        data = handler(self)
        if isinstance(data, dict):
            for name in {"authenticated", *self.omit_when_none}:
                if data.get(name, 0) is None:
                    data.pop(name, None)
        return data


class AcknowledgeInput(DecisionInput):
    """Acknowledgment sent to the customer (automatic on receipt unless disabled)."""

    channel: Channel | None = None
    message: Text = ""


class TriageInput(DecisionInput):
    """Severity, risk, assignee and reportability. `markets` (with `event_class`) makes the
    regulator clocks per market and report (`schemas.reporting_rules`); without it a
    reportable complaint has one regulator deadline by severity, as before."""

    omit_when_none = frozenset({"markets", "event_class", "remedial_action"})

    severity: Severity
    category: Name
    risk_rationale: Reason
    assignee: Name
    reportable: bool
    reportable_justification: Reason = Field(
        description="why it must, or need not, be reported to a regulator"
    )
    regulator: Name | None = None
    aware_at: AwareDatetime | None = Field(
        default=None,
        description="when the company became aware (starts the regulator's clock); default "
        "the time the complaint was received",
    )
    markets: list[Market] | None = Field(
        default=None, description="where the device is marketed; None: keep what triage said"
    )
    event_class: EventClass | None = Field(
        default=None, description="what happened, for the reporting rules"
    )
    remedial_action: bool | None = Field(
        default=None,
        description="remedial action is needed to prevent an unreasonable risk of substantial "
        "harm to public health (21 CFR 803.53: the 5-work-day report)",
    )


class InvestigateInput(DecisionInput):
    """A root-cause analysis. `final=False` records a preliminary finding (e.g. a lab result)."""

    method: InvestigationMethod
    method_detail: Text = ""
    root_causes: list[Reason] = Field(min_length=1)
    contributing_factors: list[Reason] = Field(default_factory=list)
    evidence: list[Reference] = Field(default_factory=list)
    final: bool = True
    capa_needed: bool = Field(
        default=True, description="False: ISO 9001 10.2.1 c) evaluated, no action needed"
    )

    @model_validator(mode="after")
    def _other_needs_detail(self) -> Self:
        if self.method is InvestigationMethod.OTHER and not self.method_detail:
            raise ValueError(f"method 'other' needs {field_ref('method_detail')}")
        return self


class DeclineInvestigationInput(DecisionInput):
    """A documented decision not to investigate; the actor is who decided."""

    reason: Reason


class CapaActionPlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: ActionId
    description: Reason
    kind: CapaKind
    owner: Name
    due_at: AwareDatetime


class PlanCapaInput(DecisionInput):
    """One or more actions; each runs as its own child workflow. May add to an existing plan."""

    actions: list[CapaActionPlan] = Field(min_length=1)
    verification_wait: timedelta | None = Field(
        default=None, description="wait after the last action before verifying; default policy"
    )


class ActionProgressInput(DecisionInput):
    action_id: ActionId
    note: Reason
    percent_complete: int | None = Field(default=None, ge=0, le=100)
    evidence: list[Reference] = Field(default_factory=list)


class CompleteActionInput(DecisionInput):
    action_id: ActionId
    evidence: list[Reference] = Field(min_length=1)
    summary: Text = ""


class ExtendInput(DecisionInput):
    """Move one due date: a CAPA action's (`action_id`) or a stage deadline's (`stage`).

    Later is the usual case. Earlier only with `allow_earlier` (a deliberate tightening,
    audited like any move) and never to a time that has passed: a deadline cannot be made
    overdue, or quietly shortened, by a slip of the date."""

    action_id: ActionId | None = None
    stage: DeadlineStage | None = None
    new_due_at: AwareDatetime
    reason: Reason
    allow_earlier: bool = Field(
        default=False, description="True: the new due date may be earlier than the current one"
    )

    @model_validator(mode="after")
    def _exactly_one_target(self) -> Self:
        if (self.action_id is None) == (self.stage is None):
            raise ValueError(
                f"give exactly one of {field_ref('action_id')} or {field_ref('stage')}"
            )
        return self


class VerifyInput(DecisionInput):
    """Verification of effectiveness (ISO 9001 10.2.1 d)."""

    effective: bool
    evidence: list[Reference] = Field(min_length=1)
    override_wait_reason: Reason | None = Field(
        default=None, description="verify before the planned wait has passed, and why"
    )


class CloseInput(DecisionInput):
    customer_response: Reason = Field(description="the response sent to the customer")
    response_channel: Channel | None = None


class RejectInput(DecisionInput):
    reason: RejectReason
    explanation: Reason = Field(description="why, for the record; never sent to the customer")
    duplicate_of: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")] | None = None
    customer_response: Reason | None = Field(
        default=None,
        description="what the customer is told besides the decision itself (ISO 10002 7.8); "
        "unset: the rejection message states the decision alone",
    )

    @model_validator(mode="after")
    def _duplicate_links(self) -> Self:
        if (self.reason is RejectReason.DUPLICATE) != (self.duplicate_of is not None):
            raise ValueError(
                f"{field_ref('duplicate_of')} is required for, and only for, "
                f"{field_ref('reason')} 'duplicate'"
            )
        return self


class LinkRelatedInput(DecisionInput):
    """This complaint and another are about the same thing, yet both stay open cases (a
    duplicate is rejected instead). The audit entry keeps the suggestion's score, if any."""

    related_to: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")] = Field(
        description="the id of the related complaint"
    )
    explanation: Reason


class ReopenInput(DecisionInput):
    reason: ReopenReason
    explanation: Reason


class AddInformationInput(DecisionInput):
    """Information the customer (or anyone) added to the complaint."""

    information: Reason
    attachments: list[Reference] = Field(default_factory=list)
    source: Name = "customer"


class RecordSurveyInput(DecisionInput):
    """A customer satisfaction survey response: CSAT 1-5 and/or NPS 0-10."""

    csat: int | None = Field(default=None, ge=1, le=5)
    nps: int | None = Field(default=None, ge=0, le=10)
    verbatim: Text = ""
    survey_id: Reference | None = None

    @model_validator(mode="after")
    def _some_score(self) -> Self:
        if self.csat is None and self.nps is None:
            raise ValueError(f"give {field_ref('csat')}, {field_ref('nps')} or both")
        return self


class RegulatoryReportInput(DecisionInput):
    """The report filed with the regulator (stops the regulator deadline). A case triaged
    per market names the report by `market` (and `kind` when it must); `regulator` then
    defaults to that report's regulator."""

    omit_when_none = frozenset({"market", "kind"})

    regulator: Name | None = None
    reference: Reference
    submitted_at: AwareDatetime | None = None
    market: Market | None = None
    kind: ReportKind | None = None


class CustomerActivityInput(BaseModel):
    """Signal payload: the customer did something (for retention). `event_id` is required,
    because Temporal does not durably de-duplicate signals: the workflow keeps a bounded
    seen-set of event ids."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: Reference
    actor: Actor
    activity: Name = Field(description="e.g. purchase, login, renewal, cancellation")
    occurred_at: AwareDatetime
    comment: Text = ""


class RequestInformationInput(DecisionInput):
    """A question to the complainant (ISO 10002 7.4); the workflow sends it as a message."""

    question: Reason


class MessageDeliveryInput(BaseModel):
    """Signal payload from `message.delivered` / `message.failed`; de-duplicated by the
    workflow by `event_id`, as Temporal does not de-duplicate signals durably."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str
    actor: Actor
    message_id: str
    delivered: bool
    occurred_at: AwareDatetime
    reason: str = ""
    permanent: bool | None = None
    provider_reference: str | None = None
