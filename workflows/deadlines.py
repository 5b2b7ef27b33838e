"""Deadline bookkeeping on a complaint's state: open, meet, cancel, move, find the next.

Pure functions of the state and the workflow time, so the workflow stays deterministic and
the rules are unit-testable without Temporal. The workflow turns `next_to_escalate` into a
durable timer; CAPA actions' due dates are watched by their own child workflows.
"""

from __future__ import annotations

from datetime import datetime

from schemas.complaint_state import (
    ActionStatus,
    ComplaintState,
    Deadline,
    DeadlineResolution,
    DueDateChange,
    NextDue,
    Signed,
)
from schemas.decisions import DeadlineStage, Severity

STAGE_LABELS: dict[DeadlineStage, str] = {
    DeadlineStage.ACKNOWLEDGE: "acknowledge the complaint",
    DeadlineStage.TRIAGE: "triage",
    DeadlineStage.INVESTIGATION: "conclude the investigation",
    DeadlineStage.VERIFICATION: "verify effectiveness",
    DeadlineStage.CLOSURE: "close the complaint",
    DeadlineStage.REGULATOR_REPORT: "report to the regulator",
    DeadlineStage.ACKNOWLEDGMENT_DELIVERY: "deliver the acknowledgment to the complainant",
}


def label(deadline: Deadline) -> str:
    """What the deadline is for, in words: the stage, or the report it is the clock of."""
    if deadline.what is not None:
        return f"submit the {deadline.what}"
    return STAGE_LABELS[deadline.stage]


def find_active(state: ComplaintState, stage: DeadlineStage, report: str | None) -> Deadline | None:
    """The active deadline of `stage` (for regulator reports: of that report)."""
    return next(
        (d for d in state.deadlines if d.stage is stage and d.report == report and d.active), None
    )


def open_deadline(
    state: ComplaintState, stage: DeadlineStage, *, clock_start: datetime, due_at: datetime
) -> Deadline:
    """Open `stage`'s deadline; an active one of the same stage is replaced (cancelled)."""
    cancel(state, stage, at=clock_start)
    deadline = Deadline(stage=stage, loop=state.loop, opened_at=clock_start, due_at=due_at)
    state.deadlines.append(deadline)
    return deadline


def meet(state: ComplaintState, stage: DeadlineStage, *, at: datetime) -> None:
    _resolve(state, stage, at, DeadlineResolution.MET)


def cancel(state: ComplaintState, stage: DeadlineStage, *, at: datetime) -> None:
    _resolve(state, stage, at, DeadlineResolution.CANCELLED)


def cancel_all(state: ComplaintState, *, at: datetime) -> None:
    for deadline in state.deadlines:
        if deadline.active:
            deadline.resolved_at, deadline.resolution = at, DeadlineResolution.CANCELLED


def _resolve(
    state: ComplaintState, stage: DeadlineStage, at: datetime, how: DeadlineResolution
) -> None:
    deadline = state.active_deadline(stage)
    if deadline is not None:
        deadline.resolved_at, deadline.resolution = at, how


def move(deadline: Deadline, new_due_at: datetime, change: DueDateChange | None = None) -> None:
    """Move a due date. A deadline moved into the future is no longer escalated."""
    if change is not None:
        deadline.extensions.append(change)
    deadline.due_at = new_due_at
    now = change.at if change is not None else None
    if now is not None and new_due_at > now:
        deadline.escalated_at = None


def reschedule_for_severity(state: ComplaintState, severity: Severity, *, now: datetime) -> None:
    """Re-triage changed the severity: recompute the dues that were never moved by hand."""
    policy = state.policy
    for stage, durations in (
        (DeadlineStage.INVESTIGATION, policy.investigation),
        (DeadlineStage.CLOSURE, policy.closure),
        (DeadlineStage.REGULATOR_REPORT, policy.regulator_report),
    ):
        deadline = state.active_deadline(stage)
        if deadline is None or deadline.extensions or deadline.report is not None:
            continue  # moved by hand, or a per-market report whose clock is the law's
        deadline.due_at = deadline.opened_at + durations.for_severity(severity)
        if deadline.due_at > now:
            deadline.escalated_at = None


def next_to_escalate(state: ComplaintState) -> Deadline | None:
    """The earliest active deadline that has not been escalated yet: the next timer."""
    pending = [d for d in state.deadlines if d.active and d.escalated_at is None]
    return min(pending, key=lambda d: d.due_at, default=None)


def is_overdue(state: ComplaintState) -> bool:
    if any(d.active and d.escalated_at is not None for d in state.deadlines):
        return True
    return any(a.overdue and a.status is not ActionStatus.DONE for a in state.actions)


def next_due(state: ComplaintState) -> NextDue | None:
    """What is due next and by when: the earliest active deadline or open CAPA action."""
    items = [
        NextDue(what=label(d), due_at=d.due_at, overdue=d.escalated_at is not None)
        for d in state.deadlines
        if d.active
    ]
    items += [
        NextDue(what=f"CAPA action {a.id} ({a.owner})", due_at=a.due_at, overdue=a.overdue)
        for a in state.actions
        if a.status is not ActionStatus.DONE
    ]
    return min(items, key=lambda item: item.due_at, default=None)


def extension(
    deadline_due: datetime, new_due_at: datetime, reason: str, signed: Signed
) -> DueDateChange:
    return DueDateChange(
        **signed.model_dump(), previous_due_at=deadline_due, new_due_at=new_due_at, reason=reason
    )
