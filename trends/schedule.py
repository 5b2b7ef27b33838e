"""The Temporal Schedule that runs the trend analysis (daily by default).

Created by every worker at start, like the search attributes: idempotent, and updated when
CLOSELOOP_TRENDS_SCHEDULE or the task queue changed. The schedule's note records what it was
made from, so an unchanged one is left alone (a pause set by an operator survives restarts).
"""

from __future__ import annotations

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from trends.workflow import RUN_TIMEOUT, TrendAnalysisWorkflow

SCHEDULE_ID = "closeloop-trends"
WORKFLOW_ID = "closeloop-trends-run"  # Temporal appends the scheduled time to each run's id


def _note(cron: str, task_queue: str) -> str:
    return f"closeloop trend analysis: cron {cron!r} (UTC), task queue {task_queue!r}"


def desired(cron: str, task_queue: str) -> Schedule:
    return Schedule(
        action=ScheduleActionStartWorkflow(
            TrendAnalysisWorkflow.run,
            id=WORKFLOW_ID,
            task_queue=task_queue,
            execution_timeout=RUN_TIMEOUT,
        ),
        spec=ScheduleSpec(cron_expressions=[cron]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP),
        state=ScheduleState(note=_note(cron, task_queue)),
    )


async def ensure_schedule(client: Client, *, cron: str, task_queue: str) -> str:
    """'created', 'updated' or 'unchanged'."""
    schedule = desired(cron, task_queue)
    try:
        await client.create_schedule(SCHEDULE_ID, schedule)
        return "created"
    except ScheduleAlreadyRunningError:
        pass
    changed = False

    def update(found: ScheduleUpdateInput) -> ScheduleUpdate | None:
        nonlocal changed
        if found.description.schedule.state.note == schedule.state.note:
            return None
        changed = True
        return ScheduleUpdate(schedule=schedule)

    await client.get_schedule_handle(SCHEDULE_ID).update(update)
    return "updated" if changed else "unchanged"
