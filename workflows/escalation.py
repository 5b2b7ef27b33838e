"""Durable deadlines: wait for the next decision, and when a deadline passes first, mark the
complaint overdue, write the escalation to the audit log, publish it, and keep waiting.

A deadline is a Temporal timer (`wait_condition` with a timeout), so it survives worker
and server restarts. Nothing here ever drops a case.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.capa_action import CapaActionOverdue
    from schemas.complaint_state import ComplaintState, ComplaintStatus
    from schemas.decisions import DeadlineStage
    from schemas.status_event import Escalation

from workflows import deadlines, lifecycle
from workflows.case_file import CaseFile, Entry
from workflows.retries import SYSTEM_ACTOR
from workflows.waiting import change_or_due


async def keep_deadlines(case: CaseFile, continue_as_new: Callable[[], bool]) -> bool:
    """Returns False when a closed or rejected case has stayed so for the retention period,
    True as soon as `continue_as_new()` says this run should hand over to a fresh one."""
    while True:
        if continue_as_new():
            return True
        changed = case.changed_since(case.version)
        if case.state.status in lifecycle.TERMINAL_STATES:
            ended = await change_or_due(
                changed, retention_ends(case.state), "retention after closure"
            )
            if ended and case.state.status in lifecycle.TERMINAL_STATES:
                return False
            continue
        deadline = deadlines.next_to_escalate(case.state)
        if deadline is None:
            await change_or_due(changed, None, "")
            continue
        if await change_or_due(changed, deadline.due_at, f"{deadline.stage} due"):
            async with case.lock:
                await escalate(case, deadline.stage, deadline.report)


def retention_ends(state: ComplaintState) -> datetime:
    ended = state.closure if state.status is ComplaintStatus.CLOSED else None
    ended_at = ended.at if ended else (state.rejection or state.history[-1]).at
    return ended_at + state.policy.retention_after_close


async def escalate(case: CaseFile, stage: DeadlineStage, report: str | None = None) -> None:
    """Mark the complaint overdue, audit and publish the escalation; keep the case open.
    `report`: which per-market report's clock it is (regulator deadlines only)."""
    now = workflow.now()
    current = deadlines.find_active(case.state, stage, report)
    if current is None or current.escalated_at is not None or current.due_at > now:
        return  # met, moved or escalated while we waited for the lock
    candidate = case.draft()
    deadline = deadlines.find_active(candidate, stage, report)
    assert deadline is not None
    deadline.escalated_at = now
    description = f"{deadlines.label(deadline)} was due {deadline.due_at:%Y-%m-%d %H:%M} UTC"
    # One escalation per report: its key names the report (keys of other deadlines as before)
    which = f"{stage}:{report}" if report else f"{stage}"
    extra = {"report": report} if report else {}
    await case.commit(
        candidate,
        Entry(
            entry_type="complaint.escalated",
            key=(
                f"{candidate.complaint_id}:escalation:{which}:{deadline.loop}:"
                f"{deadline.due_at.isoformat()}"
            ),
            actor=SYSTEM_ACTOR,
            what=f"Escalated: {description}",
            data={
                "stage": stage.value,
                "due_at": deadline.due_at.isoformat(),
                "opened_at": deadline.opened_at.isoformat(),
                "loop": deadline.loop,
                "status": candidate.status.value,
                "severity": candidate.severity.value if candidate.severity else None,
                "assignee": candidate.assignee,
                **extra,
            },
            escalation=Escalation(
                stage=stage.value, due_at=deadline.due_at, description=description
            ),
        ),
        now,
    )


async def mark_action_overdue(case: CaseFile, notice: CapaActionOverdue) -> None:
    """A CAPA child's due date passed (the child wrote the audit entry): mark and publish."""
    action = case.state.action(notice.action_id)
    if action is None or action.completed is not None or action.due_at != notice.due_at:
        return  # completed or moved meanwhile: nothing is overdue
    candidate = case.draft()
    marked = candidate.action(notice.action_id)
    assert marked is not None
    marked.overdue = True
    description = f"CAPA action {action.id} was due {action.due_at:%Y-%m-%d %H:%M} UTC"
    await case.commit(
        candidate,
        Entry(
            entry_type="capa.action_overdue",
            key="",
            actor=SYSTEM_ACTOR,
            what=f"Escalated: {description} ({action.owner})",
            escalation=Escalation(
                stage="capa_action",
                due_at=action.due_at,
                action_id=action.id,
                description=description,
            ),
            audit_seq=notice.audit_seq,
        ),
        workflow.now(),
    )
