"""The durable wait every deadline keeper needs: until something changes, or a due time.

A Temporal timer (`wait_condition` with a timeout), so it survives worker and server
restarts. Used by the complaint's deadlines (`workflows/escalation.py`) and by each CAPA
action's due date (`workflows/capa.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from temporalio import workflow


async def change_or_due(changed: Callable[[], bool], due_at: datetime | None, summary: str) -> bool:
    """Wait until `changed()` holds or `due_at` passes (no `due_at`: only for a change).
    True when the due time came first, also when it had already passed."""
    if due_at is None:
        await workflow.wait_condition(changed)
        return False
    remaining = due_at - workflow.now()
    if remaining <= timedelta(0):
        return True
    try:
        await workflow.wait_condition(changed, timeout=remaining, timeout_summary=summary)
    except TimeoutError:
        return True
    return False
