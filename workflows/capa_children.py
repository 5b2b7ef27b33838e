"""CAPA actions as child workflows: started when planned, kept informed of every audited
decision about them, and awaited before the parent's workflow ends. The parent is a
complaint's workflow or an improvement's (`workflows/improvement.py`), which use the
action-level methods (`start_actions`, `tell_completed`)."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.capa_action import (
        ActionCompleted,
        ActionDueMoved,
        ActionProgressed,
        CapaActionInput,
    )
    from schemas.complaint_state import ActionStatus, CapaAction, ComplaintState
    from schemas.decisions import (
        ActionProgressInput,
        CompleteActionInput,
        ExtendInput,
        PlanCapaInput,
    )

from workflows.capa import CapaActionWorkflow
from workflows.rules.capa import capa_workflow_id

# Children started with ABANDON outlive a run that continues as new (issue 8); children of
# runs from before this change keep the default (TERMINATE), so such a run never continues.
ABANDON_CHILDREN = "capa-children-abandon"


class CapaChildren:
    """`running`: action ids whose child workflows a previous run of this complaint started
    (reached by workflow id; their results are not awaited, the complaint's state is)."""

    def __init__(self, running: list[str] | None = None, complaint_id: str = "") -> None:
        self._handles: dict[str, workflow.ChildWorkflowHandle[Any, CapaAction]] = {}
        self._abandoned: set[str] = set()
        self._inherited: dict[str, workflow.ExternalWorkflowHandle[Any]] = {
            action_id: workflow.get_external_workflow_handle(
                capa_workflow_id(complaint_id, action_id)
            )
            for action_id in running or []
        }

    def may_continue_as_new(self) -> bool:
        """True unless a running child would be terminated with this run."""
        return all(
            handle.done() or action_id in self._abandoned
            for action_id, handle in self._handles.items()
        )

    def still_running(self, state: ComplaintState) -> list[str]:
        """Action ids whose child workflows the next run must keep talking to."""
        ids = [a for a, handle in self._handles.items() if not handle.done()]
        ids += list(self._inherited)
        open_ids = {a.id for a in state.actions if a.status is not ActionStatus.DONE}
        return [action_id for action_id in ids if action_id in open_ids]

    async def start(self, state: ComplaintState, request: PlanCapaInput) -> None:
        actions = [state.action(plan.id) for plan in request.actions]
        assert all(action is not None for action in actions)
        await self.start_actions(state.complaint_id, [a for a in actions if a is not None])

    async def start_actions(self, case_id: str, actions: list[CapaAction]) -> None:
        """Start one child per action; `case_id` is what the child audits under (a complaint
        or an improvement), the parent is this workflow."""
        abandon = workflow.patched(ABANDON_CHILDREN)
        for action in actions:
            options: dict[str, Any] = {}
            if abandon:
                options["parent_close_policy"] = workflow.ParentClosePolicy.ABANDON
                self._abandoned.add(action.id)
            self._handles[action.id] = await workflow.start_child_workflow(
                CapaActionWorkflow.run,
                CapaActionInput(
                    complaint_id=case_id,
                    parent_workflow_id=workflow.info().workflow_id,
                    action=action,
                ),
                id=action.workflow_id,
                static_summary=f"{case_id} CAPA {action.id}: {action.description[:150]}",
                **options,
            )

    async def progressed(self, state: ComplaintState, request: ActionProgressInput) -> None:
        action = state.action(request.action_id)
        assert action is not None
        await self._tell(
            action, CapaActionWorkflow.progressed, ActionProgressed(progress=action.progress[-1])
        )

    async def completed(self, state: ComplaintState, request: CompleteActionInput) -> None:
        action = state.action(request.action_id)
        assert action is not None
        await self.tell_completed(action)

    async def tell_completed(self, action: CapaAction) -> None:
        """The action was completed (audited by the parent): the child's lifecycle ends."""
        assert action.completed is not None
        await self._tell(
            action,
            CapaActionWorkflow.completed,
            ActionCompleted(
                completed=action.completed, evidence=action.evidence, summary=action.summary
            ),
        )

    async def due_moved(self, state: ComplaintState, request: ExtendInput) -> None:
        if request.action_id is None:
            return  # a stage deadline moved, not an action's
        action = state.action(request.action_id)
        assert action is not None
        await self._tell(
            action, CapaActionWorkflow.due_moved, ActionDueMoved(change=action.extensions[-1])
        )

    async def _tell(self, action: CapaAction, signal: Any, notice: Any) -> None:
        """Keep the child's mirror of the action current. The decision is already audited
        and the complaint's state is authoritative, so a child that is gone (terminated by
        hand in the UI) is logged, not fatal."""
        try:
            if action.id in self._inherited:
                await self._inherited[action.id].signal(signal, notice)
            else:
                await self._handles[action.id].signal(signal, notice)
        except Exception as exc:
            workflow.logger.warning(
                "CAPA action %s (%s) did not take the signal: %s",
                action.id,
                action.workflow_id,
                exc,
            )

    async def finished(self) -> None:
        for action_id, handle in self._handles.items():
            try:
                await handle
            except Exception as exc:
                workflow.logger.warning("CAPA action %s ended abnormally: %s", action_id, exc)
