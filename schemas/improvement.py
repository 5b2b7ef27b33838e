"""Preventive action as a Plan-Do-Check-Act cycle: what an improvement's workflow accepts.

An improvement is opened by a trend signal or an operator (`OpenImprovement`, the workflow's
start input), then moved on by decisions sent as Temporal Updates by name, each input a
`schemas.decisions.DecisionInput` (who, why, which state they reviewed), like a complaint's:

    open -> planning --plan--> doing --complete_action (last)--> checking --check--> acting
    acting --standardise--> standardised          acting --go_round_again--> planning

The measure is one KPI figure of `closeloop kpi` (computed from the audit log), optionally for
one product, category, channel, severity or source: the check compares its level in the
periods before the improvement was opened with the same number of periods after the round's
actions were done. Refusals use `schemas.outcomes` markers and codes, so every surface words
them for its own users.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from schemas.complaint_state import CapaAction, SignatureMeaning
from schemas.deadlines import ImprovementPolicy
from schemas.decisions import (
    Actor,
    CapaActionPlan,
    CompleteActionInput,
    DecisionInput,
    Name,
    Reason,
    Reference,
)
from schemas.outcomes import DueNext, RefusalCode, render

IMPROVEMENT_WORKFLOW = "ImprovementWorkflow"
IMPROVEMENT_STATE_QUERY = "improvement_state"
# Workflow ids of improvements live apart from complaint ids (which are workflow ids too).
WORKFLOW_ID_PREFIX = "improvement/"
# The activity (in `kpi/`, registered by the worker) that measures the figure per period.
MEASURE_ACTIVITY = "measure_kpi_figure"
# The local activity (activities/policy.py) that hands over CLOSELOOP_IMPROVEMENT_DEADLINES.
LOAD_POLICY_ACTIVITY = "load_improvement_policy"

ImprovementId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9._-]{1,64}$")]


def improvement_workflow_id(improvement_id: str) -> str:
    return f"{WORKFLOW_ID_PREFIX}{improvement_id}"


class ImprovementDecision(StrEnum):
    """The Temporal Update names of `ImprovementWorkflow`."""

    PLAN = "plan"
    COMPLETE_ACTION = "complete_action"
    CHECK = "check"
    STANDARDISE = "standardise"
    GO_ROUND_AGAIN = "go_round_again"


class ImprovementStatus(StrEnum):
    PLANNING = "planning"  # Plan: what to change, and the actions
    DOING = "doing"  # Do: the actions run as CAPA child workflows
    CHECKING = "checking"  # Check: the figure after the actions against the level before
    ACTING = "acting"  # Act: standardise, or go round again
    STANDARDISED = "standardised"


class Better(StrEnum):
    """Which way the figure should move: fewer complaints, or a higher CSAT."""

    LOWER = "lower"
    HIGHER = "higher"


class ImprovementStage(StrEnum):
    PLAN = "plan"
    CHECK = "check"
    ACT = "act"


class Measure(BaseModel):
    """The figure that showed the problem and must show the improvement."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    figure: Name = Field(description="a `closeloop kpi` figure, e.g. complaints_received")
    filters: dict[str, str] = Field(
        default_factory=dict, description="dimension -> value, e.g. {'product': 'KET-200'}"
    )
    better: Better = Better.LOWER
    periods: int = Field(default=3, ge=1, le=24, description="periods before and after")
    period: timedelta = Field(default=timedelta(days=30), description="length of one period")


class OpenImprovement(BaseModel):
    """The start input: who opened it, the owner, the problem and what links to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    improvement_id: ImprovementId
    opened_by: Actor
    owner: Name
    problem: Reason
    signal_id: Reference | None = Field(default=None, description="the trend signal, if any")
    complaint_ids: list[Reference] = Field(default_factory=list)
    measure: Measure
    policy: ImprovementPolicy | None = Field(
        default=None, description="deadlines; None: the worker's (CLOSELOOP_IMPROVEMENT_DEADLINES)"
    )
    comment: Annotated[str, StringConstraints(max_length=4000)] = ""
    authenticated: bool | None = None


class PlanInput(DecisionInput):
    """Plan: the change to make, and the actions (each runs as a CAPA child workflow)."""

    plan: Reason = Field(description="what will change and why it should move the figure")
    actions: list[CapaActionPlan] = Field(min_length=1)


class CompleteImprovementActionInput(CompleteActionInput):
    """Do: one action done, with evidence (the same input as a complaint's)."""


class CheckInput(DecisionInput):
    """Check: measure the figure now. Before the periods after the actions have passed only
    with a reason (the periods measured are cut at the time of the check)."""

    override_wait_reason: Reason | None = None


class StandardiseInput(DecisionInput):
    """Act: the change worked; make it the standard way of working."""

    standard: Reason = Field(description="where it is now standard: procedure, work instruction")


class GoRoundAgainInput(DecisionInput):
    """Act: the change did not work (enough); plan again."""

    reason: Reason


class MeasuredPeriod(BaseModel):
    label: str
    start: datetime
    end: datetime
    value: float | None = None


class MeasureFigure(BaseModel):
    """Activity input: the figure for each period (half-open [start, end), UTC)."""

    measure: Measure
    periods: list[MeasuredPeriod]


class FigureMeasured(BaseModel):
    """Activity result: the periods with their values (None: nothing to compute it from),
    and the audit log's tree size the figures were computed at."""

    periods: list[MeasuredPeriod]
    tree_size: int
    root_hash: str


class Verdict(StrEnum):
    IMPROVED = "improved"
    NOT_IMPROVED = "not_improved"
    INCONCLUSIVE = "inconclusive"  # no value before or after


class Stage(BaseModel):
    """One stage's deadline in one round."""

    stage: ImprovementStage
    round: int
    opened_at: datetime
    due_at: datetime
    escalated_at: datetime | None = None
    met_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.met_at is None


class Signed(BaseModel):
    by: Actor
    at: datetime
    round: int = 1
    comment: str = ""


class PlanRecord(Signed):
    plan: str
    action_ids: list[str]


class CheckRecord(Signed):
    before: list[MeasuredPeriod]
    after: list[MeasuredPeriod]
    before_level: float | None
    after_level: float | None
    verdict: Verdict
    tree_size: int
    root_hash: str
    override_wait_reason: str | None = None


class ActRecord(Signed):
    standardised: bool
    standard: str = ""
    reason: str = ""


class StepItem(BaseModel):
    """One thing that happened to the improvement, as `show` lists it."""

    at: datetime
    status: ImprovementStatus
    what: str
    actor: str
    actor_name: str = ""
    decision: str | None = None
    meaning: SignatureMeaning | None = None
    comment: str = ""
    audit_seq: int | None = None


class ImprovementState(BaseModel):
    """Everything on one screen, and everything a signature covers."""

    improvement_id: str
    status: ImprovementStatus
    opened: OpenImprovement
    opened_at: datetime
    policy: ImprovementPolicy = Field(default_factory=ImprovementPolicy)
    round: int = 1
    plans: list[PlanRecord] = Field(default_factory=list)
    actions: list[CapaAction] = Field(default_factory=list)
    actions_done_at: datetime | None = Field(
        default=None, description="when the round's last action was done: the check starts"
    )
    checks: list[CheckRecord] = Field(default_factory=list)
    acts: list[ActRecord] = Field(default_factory=list)
    stages: list[Stage] = Field(default_factory=list)
    overdue: bool = False
    history: list[StepItem] = Field(default_factory=list)
    # Derived when the state is read; not covered by the state hash.
    next_due: DueNext | None = None
    allowed_decisions: list[ImprovementDecision] = Field(default_factory=list)
    state_hash: str = ""

    def action(self, action_id: str) -> CapaAction | None:
        return next((action for action in self.actions if action.id == action_id), None)

    def round_actions(self) -> list[CapaAction]:
        return [a for a in self.actions if a.planned.loop == self.round]

    def active_stage(self, stage: ImprovementStage) -> Stage | None:
        return next((s for s in self.stages if s.stage is stage and s.active), None)

    def latest_check(self) -> CheckRecord | None:
        checks = [c for c in self.checks if c.round == self.round]
        return checks[-1] if checks else None


DERIVED_FIELDS = frozenset({"next_due", "allowed_decisions", "state_hash"})

MEANINGS: dict[ImprovementDecision, SignatureMeaning] = {
    ImprovementDecision.PLAN: SignatureMeaning.APPROVED,
    ImprovementDecision.COMPLETE_ACTION: SignatureMeaning.APPROVED,
    ImprovementDecision.CHECK: SignatureMeaning.REVIEWED,
    ImprovementDecision.STANDARDISE: SignatureMeaning.CLOSED,
    ImprovementDecision.GO_ROUND_AGAIN: SignatureMeaning.APPROVED,
}


class ImprovementReceipt(BaseModel):
    """What an accepted decision returns (small: an Update's result stays in history)."""

    model_config = ConfigDict(frozen=True)

    improvement_id: str
    decision: ImprovementDecision
    update_id: str
    status: ImprovementStatus
    state_hash: str
    audit_seq: int | None = None
    next_due: DueNext | None = None
    allowed_decisions: list[ImprovementDecision] = Field(default_factory=list)
    overdue: bool = False
    what: str = ""
    request_hash: str = ""


class ImprovementRefusal(BaseModel):
    """Why a decision was refused, with field and decision names left as markers."""

    model_config = ConfigDict(frozen=True)

    code: RefusalCode
    improvement_id: str
    status: ImprovementStatus
    decision: ImprovementDecision
    template: str
    allowed: list[ImprovementDecision] = Field(default_factory=list)

    def plain(self) -> str:
        return render(self.template, field=str, decision=str)
