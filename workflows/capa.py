"""CapaActionWorkflow: one corrective or preventive action, from plan to done.

Started by its complaint's workflow (id `{complaint_id}/capa/{action_id}`) when CAPA is
planned. The complaint's workflow takes the decisions (progress, completion with evidence,
a moved due date), audits them and tells this workflow by signal; this workflow keeps the
action's own lifecycle (open -> in_progress -> done) and its durable due-date timer. When
the due date passes unmet, it writes the escalation to the audit log, tells the complaint
(which marks itself overdue and publishes the escalation) and keeps waiting: an overdue
action is never dropped. A moved due date re-arms the timer.
"""

from __future__ import annotations

from collections.abc import Callable

from temporalio import workflow

# Data contracts and activities come from the host (see workflows/complaint.py); our own
# modules below are re-imported, and policed, by the sandbox.
with workflow.unsafe.imports_passed_through():
    import schemas.decisions  # noqa: F401  (used by workflows.retries)
    from activities.audit import AuditActivities, RecordAuditEntry
    from schemas.capa_action import (
        ActionCompleted,
        ActionDueMoved,
        ActionProgressed,
        CapaActionInput,
        CapaActionOverdue,
    )
    from schemas.complaint_state import ActionStatus, CapaAction

from workflows.retries import (
    AUDIT_ACTIVITY_TIMEOUT,
    AUDIT_RETRY,
    LOCAL_ACTIVITIES,
    SYSTEM_ACTOR,
    run_activity,
)
from workflows.waiting import change_or_due

# The complaint's signal that receives `CapaActionOverdue` (a name: no import cycle).
OVERDUE_SIGNAL = "capa_action_overdue"


@workflow.defn
class CapaActionWorkflow:
    """The lifecycle of one CAPA action and its due date."""

    @workflow.init
    def __init__(self, request: CapaActionInput) -> None:
        self._request = request
        self._action = request.action.model_copy(deep=True)
        self._version = 0
        self._local_activities = False

    @workflow.run
    async def run(self, request: CapaActionInput) -> CapaAction:
        self._local_activities = workflow.patched(LOCAL_ACTIVITIES)  # once, at the start
        self._show()
        while self._action.status is not ActionStatus.DONE:
            # escalated once for this due date: wait for news only
            due_at = None if self._action.overdue else self._action.due_at
            changed = self._changed_since(self._version)
            if await change_or_due(changed, due_at, f"action {self._action.id} due"):
                await self._escalate()
        return self._action

    @workflow.query
    def action_state(self) -> CapaAction:
        return self._action

    @workflow.signal
    def progressed(self, notice: ActionProgressed) -> None:
        if self._action.status is ActionStatus.DONE:
            return
        self._action.progress.append(notice.progress)
        self._action.status = ActionStatus.IN_PROGRESS
        self._changed()

    @workflow.signal
    def completed(self, notice: ActionCompleted) -> None:
        if self._action.status is ActionStatus.DONE:
            return
        self._action.status = ActionStatus.DONE
        self._action.completed = notice.completed
        self._action.evidence = list(notice.evidence)
        self._action.summary = notice.summary
        self._action.overdue = False
        self._changed()

    @workflow.signal
    def due_moved(self, notice: ActionDueMoved) -> None:
        if self._action.status is ActionStatus.DONE:
            return
        self._action.extensions.append(notice.change)
        self._action.due_at = notice.change.new_due_at
        self._action.overdue = False
        self._changed()

    async def _escalate(self) -> None:
        action, complaint_id = self._action, self._request.complaint_id
        due = action.due_at
        receipt = await run_activity(
            AuditActivities.record_audit_entry,
            RecordAuditEntry(
                complaint_id=complaint_id,
                entry_type="capa.action_overdue",
                actor=SYSTEM_ACTOR.id,
                occurred_at=workflow.now(),
                idempotency_key=f"{complaint_id}:capa:{action.id}:overdue:{due.isoformat()}",
                reason=f"CAPA action {action.id} was due {due:%Y-%m-%d %H:%M} UTC",
                data={
                    "action_id": action.id,
                    "kind": action.kind.value,
                    "owner": action.owner,
                    "description": action.description,
                    "due_at": due.isoformat(),
                    "status": action.status.value,
                    "workflow_id": workflow.info().workflow_id,
                },
            ),
            start_to_close=AUDIT_ACTIVITY_TIMEOUT,
            retry=AUDIT_RETRY,
            local=self._local_activities,
        )
        if self._action.status is ActionStatus.DONE or self._action.due_at != due:
            return  # completed or moved while the entry was being written
        self._action.overdue = True
        self._changed()
        await workflow.get_external_workflow_handle(self._request.parent_workflow_id).signal(
            OVERDUE_SIGNAL,
            CapaActionOverdue(
                action_id=action.id,
                due_at=due,
                escalated_at=workflow.now(),
                audit_seq=receipt.seq,
            ),
        )

    def _changed_since(self, version: int) -> Callable[[], bool]:
        return lambda: self._version != version

    def _changed(self) -> None:
        self._version += 1
        self._show()

    def _show(self) -> None:
        action = self._action
        late = " — **OVERDUE**" if action.overdue else ""
        workflow.set_current_details(
            f"**{action.status}**{late}\n\n{action.kind} action {action.id} for complaint "
            f"{self._request.complaint_id}, owner {action.owner}, due "
            f"{action.due_at:%Y-%m-%d %H:%M} UTC\n\n{action.description}"
        )
