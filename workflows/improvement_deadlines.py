"""An improvement's durable deadlines: plan in time, check in time, act in time; each CAPA
action's due date is watched by its own child workflow (`workflows/capa.py`). A missed
deadline is audited and marked overdue; the improvement stays open and keeps waiting."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.capa_action import CapaActionOverdue
    from schemas.improvement import ImprovementStatus, Stage

from workflows.case_file import Entry
from workflows.improvement_file import ImprovementFile
from workflows.retries import SYSTEM_ACTOR
from workflows.rules.improvement import STAGE_LABELS
from workflows.waiting import change_or_due


async def keep_deadlines(file: ImprovementFile) -> None:
    """Until the improvement is standardised: wait for the next decision, or escalate."""
    while file.state.status is not ImprovementStatus.STANDARDISED:
        changed = file.changed_since(file.version)
        stage = next_to_escalate(file)
        due_at = stage.due_at if stage else None
        summary = f"{stage.stage} due" if stage else ""
        if await change_or_due(changed, due_at, summary) and stage is not None:
            async with file.lock:
                await escalate(file, stage)


def next_to_escalate(file: ImprovementFile) -> Stage | None:
    pending = [s for s in file.state.stages if s.active and s.escalated_at is None]
    return min(pending, key=lambda s: s.due_at, default=None)


async def escalate(file: ImprovementFile, stage: Stage) -> None:
    now = workflow.now()
    current = file.state.active_stage(stage.stage)
    if current is None or current.escalated_at is not None or current.due_at > now:
        return  # met or escalated while we waited for the lock
    candidate = file.draft()
    marked = candidate.active_stage(stage.stage)
    assert marked is not None
    marked.escalated_at = now
    state = candidate
    description = f"{STAGE_LABELS[stage.stage]} was due {stage.due_at:%Y-%m-%d %H:%M} UTC"
    await file.commit(
        candidate,
        Entry(
            entry_type="improvement.escalated",
            key=(
                f"{state.improvement_id}:escalation:{stage.stage}:{stage.round}:"
                f"{stage.due_at.isoformat()}"
            ),
            actor=SYSTEM_ACTOR,
            what=f"Escalated: {description} ({state.opened.owner})",
            data={
                "stage": stage.stage.value,
                "round": stage.round,
                "due_at": stage.due_at.isoformat(),
                "opened_at": stage.opened_at.isoformat(),
                "status": state.status.value,
                "owner": state.opened.owner,
            },
        ),
        now,
    )


async def mark_action_overdue(file: ImprovementFile, notice: CapaActionOverdue) -> None:
    """A CAPA child's due date passed (the child wrote the audit entry): mark it."""
    action = file.state.action(notice.action_id)
    if action is None or action.completed is not None or action.due_at != notice.due_at:
        return
    candidate = file.draft()
    marked = candidate.action(notice.action_id)
    assert marked is not None
    marked.overdue = True
    await file.commit(
        candidate,
        Entry(
            entry_type="capa.action_overdue",
            key="",
            actor=SYSTEM_ACTOR,
            what=f"Escalated: action {action.id} was due {action.due_at:%Y-%m-%d %H:%M} UTC "
            f"({action.owner})",
            audit_seq=notice.audit_seq,
        ),
        workflow.now(),
    )
