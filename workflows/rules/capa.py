"""Corrective and preventive action (ISO 9001:2015 10.2.1 c): plan, progress, complete, and
moving a due date, which is always an explicit decision with a reason."""

from __future__ import annotations

from datetime import datetime

from schemas.complaint_state import (
    ActionProgress,
    ActionStatus,
    CapaAction,
    ComplaintState,
    ComplaintStatus,
    Signed,
)
from schemas.decisions import (
    ActionProgressInput,
    CompleteActionInput,
    DeadlineStage,
    ExtendInput,
    PlanCapaInput,
)
from schemas.markers import decision_ref as D
from schemas.markers import field_ref as F
from workflows import deadlines
from workflows.rules import Logic, Refused
from workflows.rules.investigation import concluded


def capa_workflow_id(complaint_id: str, action_id: str) -> str:
    return f"{complaint_id}/capa/{action_id}"


def plan_ready(state: ComplaintState, now: datetime) -> str | None:
    if state.status is ComplaintStatus.INVESTIGATING and not concluded(state):
        return (
            f"a concluded investigation ({D('investigate')} with {F('final')} true) or a "
            f"decision not to investigate ({D('decline_investigation')})"
        )
    return None


def check_plan(state: ComplaintState, request: PlanCapaInput, now: datetime) -> None:
    ids = [action.id for action in request.actions]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise Refused(f"action ids ({F('actions.id')}) repeat in the plan: {', '.join(repeated)}")
    existing = sorted(set(ids) & {action.id for action in state.actions})
    if existing:
        raise Refused(
            f"the complaint already has actions {', '.join(existing)}; give new action ids "
            f"({F('actions.id')})"
        )
    late = [a.id for a in request.actions if a.due_at <= now]
    if late:
        raise Refused(
            f"due dates ({F('actions.due_at')}) must be in the future ({now.isoformat()}): "
            f"{', '.join(late)}"
        )
    if request.verification_wait is not None and request.verification_wait.total_seconds() < 0:
        raise Refused(f"{F('verification_wait')} cannot be negative")


def apply_plan(state: ComplaintState, request: PlanCapaInput, signed: Signed) -> str:
    for plan in request.actions:
        state.actions.append(
            CapaAction(
                **plan.model_dump(),
                planned=signed,
                workflow_id=capa_workflow_id(state.complaint_id, plan.id),
            )
        )
    if request.verification_wait is not None:
        state.verification_wait = request.verification_wait
    elif state.verification_wait is None:
        state.verification_wait = state.policy.verification_wait
    if state.status is ComplaintStatus.INVESTIGATING:
        state.status = ComplaintStatus.CAPA_PLANNED
    listed = ", ".join(
        f"{a.id} ({a.kind}, {a.owner}, due {a.due_at:%Y-%m-%d})" for a in request.actions
    )
    return f"CAPA planned: {listed}"


def open_action_ready(state: ComplaintState, now: datetime) -> str | None:
    if any(a.status is not ActionStatus.DONE for a in state.current_loop_actions()):
        return None
    return f"an open CAPA action (plan one with {D('plan_capa')})"


def _open_action(state: ComplaintState, action_id: str) -> CapaAction:
    action = state.action(action_id)
    if action is None:
        known = ", ".join(a.id for a in state.actions) or "none"
        raise Refused(f"no CAPA action {action_id} (actions: {known}) for {F('action_id')}")
    if action.status is ActionStatus.DONE:
        raise Refused(f"CAPA action {action_id} is already done")
    return action


def check_progress(state: ComplaintState, request: ActionProgressInput, now: datetime) -> None:
    _open_action(state, request.action_id)


def apply_progress(state: ComplaintState, request: ActionProgressInput, signed: Signed) -> str:
    action = _open_action(state, request.action_id)
    action.progress.append(
        ActionProgress(
            **dict(signed),
            note=request.note,
            percent_complete=request.percent_complete,
            evidence=list(request.evidence),
        )
    )
    action.status = ActionStatus.IN_PROGRESS
    state.status = ComplaintStatus.CAPA_IN_PROGRESS
    percent = f" ({request.percent_complete}%)" if request.percent_complete is not None else ""
    return f"CAPA action {action.id} progress{percent}: {request.note[:120]}"


def check_complete(state: ComplaintState, request: CompleteActionInput, now: datetime) -> None:
    _open_action(state, request.action_id)


def apply_complete(state: ComplaintState, request: CompleteActionInput, signed: Signed) -> str:
    action = _open_action(state, request.action_id)
    action.status = ActionStatus.DONE
    action.completed = signed
    action.evidence = list(request.evidence)
    action.summary = request.summary
    action.overdue = False
    state.status = ComplaintStatus.CAPA_IN_PROGRESS
    what = f"CAPA action {action.id} completed"
    if all(a.status is ActionStatus.DONE for a in state.current_loop_actions()):
        wait = state.verification_wait  # zero means zero: only None falls back (bug 8.1)
        if wait is None:
            wait = state.policy.verification_wait
        not_before = signed.at + wait
        state.verification_not_before = not_before
        state.status = ComplaintStatus.VERIFYING
        deadlines.open_deadline(
            state,
            DeadlineStage.VERIFICATION,
            clock_start=not_before,
            due_at=not_before + state.policy.verification,
        )
        what += f"; all actions done, verify effectiveness from {not_before:%Y-%m-%d}"
    return what


def check_extend(state: ComplaintState, request: ExtendInput, now: datetime) -> None:
    if request.new_due_at <= now:
        raise Refused(
            f"the new due date ({F('new_due_at')}) must be in the future ({now.isoformat()})"
        )
    if request.action_id is not None:
        current = _open_action(state, request.action_id).due_at
    else:
        assert request.stage is not None
        if request.stage is DeadlineStage.REGULATOR_REPORT:
            raise Refused("the regulator's deadline is set by regulation and cannot be moved")
        deadline = state.active_deadline(request.stage)
        if deadline is None:
            raise Refused(f"no open {request.stage} deadline to move ({F('stage')})")
        current = deadline.due_at
    if request.new_due_at == current:
        raise Refused(f"the due date is already {current.isoformat()} ({F('new_due_at')})")
    if request.new_due_at < current and not request.allow_earlier:
        raise Refused(
            f"the new due date {request.new_due_at.isoformat()} ({F('new_due_at')}) is earlier "
            f"than the current one, {current.isoformat()}; moving a due date earlier must be "
            f"deliberate: give {F('allow_earlier')}"
        )


def apply_extend(state: ComplaintState, request: ExtendInput, signed: Signed) -> str:
    if request.action_id is not None:
        action = _open_action(state, request.action_id)
        change = deadlines.extension(action.due_at, request.new_due_at, request.reason, signed)
        action.extensions.append(change)
        action.due_at = request.new_due_at
        action.overdue = False
        target = f"CAPA action {action.id}"
    else:
        assert request.stage is not None
        deadline = state.active_deadline(request.stage)
        assert deadline is not None
        change = deadlines.extension(deadline.due_at, request.new_due_at, request.reason, signed)
        deadlines.move(deadline, request.new_due_at, change)
        target = f"the {request.stage} deadline"
    verb = "brought forward" if change.new_due_at < change.previous_due_at else "moved"
    return (
        f"Due date of {target} {verb} from {change.previous_due_at:%Y-%m-%d %H:%M} to "
        f"{change.new_due_at:%Y-%m-%d %H:%M} UTC: {request.reason}"
    )


PLAN_CAPA = Logic(apply=apply_plan, check=check_plan, ready=plan_ready)
RECORD_ACTION_PROGRESS = Logic(apply=apply_progress, check=check_progress, ready=open_action_ready)
COMPLETE_ACTION = Logic(apply=apply_complete, check=check_complete, ready=open_action_ready)
EXTEND = Logic(apply=apply_extend, check=check_extend)
