"""The rules of an improvement's Plan-Do-Check-Act cycle, as pure functions of its state.

Like the complaint's rules (`workflows/rules/capa.py` …): `ready` says what must come first,
`check` refuses a bad input, `apply` changes a draft of the state and says what happened in
one line. The check's figures are measured by an activity before `apply` and handed to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from schemas.complaint_state import ActionStatus, CapaAction
from schemas.complaint_state import Signed as ActionSigned
from schemas.decisions import DecisionInput
from schemas.improvement import (
    ActRecord,
    Better,
    CheckInput,
    CheckRecord,
    CompleteImprovementActionInput,
    FigureMeasured,
    GoRoundAgainInput,
    ImprovementStage,
    ImprovementState,
    ImprovementStatus,
    MeasuredPeriod,
    PlanInput,
    PlanRecord,
    Signed,
    Stage,
    StandardiseInput,
    Verdict,
    improvement_workflow_id,
)
from schemas.markers import decision_ref as D
from schemas.markers import field_ref as F
from schemas.outcomes import RefusalCode
from workflows.rules import Refused
from workflows.rules.capa import capa_workflow_id

I = TypeVar("I", bound=DecisionInput)  # noqa: E741
S = ImprovementStatus


def always_ready(state: ImprovementState, now: datetime) -> str | None:
    return None


def nothing_to_check(state: ImprovementState, request: Any, now: datetime) -> None:
    return None


@dataclass(frozen=True)
class ImprovementLogic(Generic[I]):
    """`apply` gets the measured figures too (None unless the decision measures)."""

    apply: Callable[[ImprovementState, I, Signed, FigureMeasured | None], str]
    check: Callable[[ImprovementState, I, datetime], None] = nothing_to_check
    ready: Callable[[ImprovementState, datetime], str | None] = always_ready


# -- deadlines of the stages ---------------------------------------------------------------


def open_stage(
    state: ImprovementState, stage: ImprovementStage, now: datetime, due: datetime
) -> None:
    state.stages.append(Stage(stage=stage, round=state.round, opened_at=now, due_at=due))


def meet_stage(state: ImprovementState, stage: ImprovementStage, now: datetime) -> None:
    current = state.active_stage(stage)
    if current is not None:
        current.met_at = now


def is_overdue(state: ImprovementState) -> bool:
    late_stage = any(s.active and s.escalated_at is not None for s in state.stages)
    late_action = any(a.overdue and a.status is not ActionStatus.DONE for a in state.actions)
    return late_stage or late_action


STAGE_LABELS = {
    ImprovementStage.PLAN: "plan the improvement",
    ImprovementStage.CHECK: "check the figure",
    ImprovementStage.ACT: "standardise or go round again",
}


# -- Plan ----------------------------------------------------------------------------------


def check_plan(state: ImprovementState, request: PlanInput, now: datetime) -> None:
    ids = [action.id for action in request.actions]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise Refused(f"action ids ({F('actions.id')}) repeat in the plan: {', '.join(repeated)}")
    existing = sorted(set(ids) & {action.id for action in state.actions})
    if existing:
        raise Refused(
            f"the improvement already has actions {', '.join(existing)}; give new action ids "
            f"({F('actions.id')})"
        )
    late = [a.id for a in request.actions if a.due_at <= now]
    if late:
        raise Refused(
            f"due dates ({F('actions.due_at')}) must be in the future ({now.isoformat()}): "
            f"{', '.join(late)}"
        )


def apply_plan(
    state: ImprovementState, request: PlanInput, signed: Signed, measured: FigureMeasured | None
) -> str:
    planned = ActionSigned(by=signed.by, at=signed.at, loop=state.round, comment=signed.comment)
    parent = improvement_workflow_id(state.improvement_id)
    for plan in request.actions:
        state.actions.append(
            CapaAction(
                **plan.model_dump(),
                planned=planned,
                workflow_id=capa_workflow_id(parent, plan.id),
            )
        )
    state.plans.append(
        PlanRecord(
            **signed.model_dump(), plan=request.plan, action_ids=[a.id for a in request.actions]
        )
    )
    meet_stage(state, ImprovementStage.PLAN, signed.at)
    state.status = S.DOING
    listed = ", ".join(f"{a.id} ({a.owner}, due {a.due_at:%Y-%m-%d})" for a in request.actions)
    return f"Round {state.round} planned: {listed}"


# -- Do ------------------------------------------------------------------------------------


def _open_action(state: ImprovementState, action_id: str) -> CapaAction:
    action = state.action(action_id)
    if action is None or action.planned.loop != state.round:
        known = ", ".join(a.id for a in state.round_actions()) or "none"
        raise Refused(
            f"no action {action_id} in round {state.round} (actions: {known}) for {F('action_id')}"
        )
    if action.status is ActionStatus.DONE:
        raise Refused(f"action {action_id} is already done")
    return action


def check_complete(
    state: ImprovementState, request: CompleteImprovementActionInput, now: datetime
) -> None:
    _open_action(state, request.action_id)


def apply_complete(
    state: ImprovementState,
    request: CompleteImprovementActionInput,
    signed: Signed,
    measured: FigureMeasured | None,
) -> str:
    action = _open_action(state, request.action_id)
    action.status = ActionStatus.DONE
    action.completed = ActionSigned(
        by=signed.by, at=signed.at, loop=state.round, comment=signed.comment
    )
    action.evidence = list(request.evidence)
    action.summary = request.summary
    action.overdue = False
    what = f"Action {action.id} completed"
    if all(a.status is ActionStatus.DONE for a in state.round_actions()):
        state.actions_done_at = signed.at
        state.status = S.CHECKING
        checkable = check_from(state)
        open_stage(state, ImprovementStage.CHECK, signed.at, checkable + state.policy.check)
        what += f"; all actions done, check the figure from {checkable:%Y-%m-%d %H:%M} UTC"
    return what


# -- Check ---------------------------------------------------------------------------------


def check_from(state: ImprovementState) -> datetime:
    """When the periods after the round's actions have all passed."""
    assert state.actions_done_at is not None
    measure = state.opened.measure
    return state.actions_done_at + measure.periods * measure.period


def periods_to_measure(state: ImprovementState, now: datetime) -> list[MeasuredPeriod]:
    """The same number of periods before the improvement was opened and after the round's
    actions were done; the periods after are cut at `now` (an early check)."""
    measure, opened, done = state.opened.measure, state.opened_at, state.actions_done_at
    assert done is not None
    n, length = measure.periods, measure.period
    before = [
        MeasuredPeriod(
            label=f"before {i + 1}",
            start=opened - (n - i) * length,
            end=opened - (n - i - 1) * length,
        )
        for i in range(n)
    ]
    after = [
        MeasuredPeriod(
            label=f"after {i + 1}",
            start=done + i * length,
            end=min(done + (i + 1) * length, now),
        )
        for i in range(n)
        if done + i * length < now
    ]
    return before + after


def level(periods: list[MeasuredPeriod]) -> float | None:
    values = [p.value for p in periods if p.value is not None]
    return round(sum(values) / len(values), 3) if values else None


def verdict(before: float | None, after: float | None, better: Better) -> Verdict:
    if before is None or after is None:
        return Verdict.INCONCLUSIVE
    improved = after < before if better is Better.LOWER else after > before
    return Verdict.IMPROVED if improved else Verdict.NOT_IMPROVED


def check_check(state: ImprovementState, request: CheckInput, now: datetime) -> None:
    when = check_from(state)
    if now < when and request.override_wait_reason is None:
        raise Refused(
            f"the periods after the actions end {when:%Y-%m-%d %H:%M} UTC; check then, or now "
            f"with a reason ({F('override_wait_reason')})",
            RefusalCode.NOT_READY,
        )
    if now <= (state.actions_done_at or now):
        raise Refused("no time has passed since the actions were done: nothing to check yet")


def apply_check(
    state: ImprovementState, request: CheckInput, signed: Signed, measured: FigureMeasured | None
) -> str:
    assert measured is not None
    before = [p for p in measured.periods if p.label.startswith("before")]
    after = [p for p in measured.periods if p.label.startswith("after")]
    before_level, after_level = level(before), level(after)
    found = verdict(before_level, after_level, state.opened.measure.better)
    state.checks.append(
        CheckRecord(
            **signed.model_dump(),
            before=before,
            after=after,
            before_level=before_level,
            after_level=after_level,
            verdict=found,
            tree_size=measured.tree_size,
            root_hash=measured.root_hash,
            override_wait_reason=request.override_wait_reason,
        )
    )
    meet_stage(state, ImprovementStage.CHECK, signed.at)
    state.status = S.ACTING
    open_stage(state, ImprovementStage.ACT, signed.at, signed.at + state.policy.act)
    figure = state.opened.measure.figure
    return f"Checked {figure}: {before_level} before, {after_level} after: {found}"


# -- Act -----------------------------------------------------------------------------------


def standardise_ready(state: ImprovementState, now: datetime) -> str | None:
    check = state.latest_check()
    if check is not None and check.verdict is Verdict.IMPROVED:
        return None
    found = f" (the check found it {check.verdict})" if check else ""
    return f"a check that shows the figure improved{found}; otherwise {D('go_round_again')}"


def apply_standardise(
    state: ImprovementState,
    request: StandardiseInput,
    signed: Signed,
    measured: FigureMeasured | None,
) -> str:
    state.acts.append(
        ActRecord(**signed.model_dump(), standardised=True, standard=request.standard)
    )
    meet_stage(state, ImprovementStage.ACT, signed.at)
    state.status = S.STANDARDISED
    return f"Standardised in round {state.round}: {request.standard[:160]}"


def apply_go_round_again(
    state: ImprovementState,
    request: GoRoundAgainInput,
    signed: Signed,
    measured: FigureMeasured | None,
) -> str:
    state.acts.append(ActRecord(**signed.model_dump(), standardised=False, reason=request.reason))
    meet_stage(state, ImprovementStage.ACT, signed.at)
    state.round += 1
    state.actions_done_at = None
    state.status = S.PLANNING
    open_stage(state, ImprovementStage.PLAN, signed.at, signed.at + state.policy.plan)
    return f"Round {state.round - 1} did not do enough, round {state.round}: {request.reason[:160]}"


PLAN = ImprovementLogic(apply=apply_plan, check=check_plan)
COMPLETE_ACTION = ImprovementLogic(apply=apply_complete, check=check_complete)
CHECK = ImprovementLogic(apply=apply_check, check=check_check)
STANDARDISE = ImprovementLogic(apply=apply_standardise, ready=standardise_ready)
GO_ROUND_AGAIN = ImprovementLogic(apply=apply_go_round_again)
