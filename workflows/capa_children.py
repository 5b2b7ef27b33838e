"""The complaint's CAPA actions as child workflows: started when planned, kept informed of
every audited decision about them, and awaited before the complaint's workflow ends."""

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
    from schemas.complaint_state import CapaAction, ComplaintState
    from schemas.decisions import (
        ActionProgressInput,
        CompleteActionInput,
        ExtendInput,
        PlanCapaInput,
    )

from workflows.capa import CapaActionWorkflow


class CapaChildren:
    def __init__(self) -> None:
        self._handles: dict[str, workflow.ChildWorkflowHandle[Any, CapaAction]] = {}

    async def start(self, state: ComplaintState, request: PlanCapaInput) -> None:
        for plan in request.actions:
            action = state.action(plan.id)
            assert action is not None
            self._handles[action.id] = await workflow.start_child_workflow(
                CapaActionWorkflow.run,
                CapaActionInput(
                    complaint_id=state.complaint_id,
                    parent_workflow_id=workflow.info().workflow_id,
                    action=action,
                ),
                id=action.workflow_id,
                static_summary=f"{state.complaint_id} CAPA {action.id}: {action.description[:150]}",
            )

    async def progressed(self, state: ComplaintState, request: ActionProgressInput) -> None:
        action = state.action(request.action_id)
        assert action is not None
        await self._tell(
            action, CapaActionWorkflow.progressed, ActionProgressed(progress=action.progress[-1])
        )

    async def completed(self, state: ComplaintState, request: CompleteActionInput) -> None:
        action = state.action(request.action_id)
        assert action is not None and action.completed is not None
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
