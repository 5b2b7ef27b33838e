"""A long-lived case continues as new and stays far below Temporal's history limits.

On the Temporal dev server (the time-skipping server does not support continue-as-new
suggestions): 2,000 customer-activity signals, half of them while a CAPA action's child
workflow runs and half on the closed case, are each recorded exactly once, the child
outlives the run that started it and still takes its completion, and no run comes near
Temporal's warning limits (the runs hand over at the workflow's own bound of 1,000 events).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from audit.store import AuditLog
from base.complaints import DecisionConflictError
from schemas import search_attributes
from schemas.complaint_state import ActionStatus, ComplaintStatus
from schemas.decisions import CUSTOMER_ACTIVITY_SIGNAL, CustomerActivityInput, Decision
from tests.conftest import SERVER_STARTUP_TIMEOUT, start_with_retries, venv_binary
from tests.workflows.conftest import Harness, RecordingPublisher
from workflows.capa import CapaActionWorkflow

WARN_EVENTS = 10_240  # Temporal's history count warning
WARN_BYTES = 10 * 1024 * 1024  # Temporal's history size warning
SIGNALS = 2_000
BUDGET = 300.0  # seconds, for a loaded 2-core machine


@pytest.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_with_retries(
        lambda: WorkflowEnvironment.start_local(
            data_converter=pydantic_data_converter,
            dev_server_existing_path=venv_binary("temporal"),
            dev_server_startup_timeout=SERVER_STARTUP_TIMEOUT,
            search_attributes=list(search_attributes.ALL),
        ),
        what="the Temporal dev server",
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
async def dev_harness(dev_env, sqlite_url, policy) -> AsyncIterator[Harness]:
    audit_log = AuditLog.from_url(sqlite_url)
    harness = Harness(
        dev_env, f"can-{uuid.uuid4().hex[:8]}", audit_log, RecordingPublisher(), policy
    )
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with harness.worker(executor):
            try:
                yield harness
            finally:
                await harness.terminate_running()
    audit_log.engine.dispose()


async def signal_activity(handle: WorkflowHandle[Any, Any], numbers: range) -> None:
    async def one(number: int) -> None:
        await handle.signal(
            CUSTOMER_ACTIVITY_SIGNAL,
            CustomerActivityInput(
                event_id=f"act-{number}",
                actor={"id": "crm"},
                activity="login",
                occurred_at="2026-12-01T10:00:00Z",
            ),
        )

    for start in range(numbers.start, numbers.stop, 50):
        await asyncio.gather(*(one(n) for n in range(start, min(start + 50, numbers.stop))))


async def runs_of(harness: Harness, workflow_id: str, at_least: int) -> list[Any]:
    """Every run of the workflow, once visibility lists at least `at_least` of them."""
    deadline = time.monotonic() + BUDGET
    while True:
        runs = [r async for r in harness.client.list_workflows(f"WorkflowId = '{workflow_id}'")]
        if len(runs) >= at_least or time.monotonic() > deadline:
            return runs
        await asyncio.sleep(0.5)


async def test_a_chatty_long_lived_case_continues_as_new_and_loses_nothing(dev_harness, make):
    harness = dev_harness
    handle = await harness.start()
    cid = handle.id
    await harness.decide(handle, Decision.TRIAGE, make.triage())
    await harness.decide(handle, Decision.INVESTIGATE, make.investigate())
    now = await harness.now()
    plan = make.plan(make.action("A1", now + timedelta(days=10)), verification_wait=timedelta(0))
    planned = await harness.send(handle, Decision.PLAN_CAPA, plan, id="plan-1")

    await signal_activity(handle, range(0, SIGNALS // 2))
    await harness.wait_for(handle, lambda s: s.customer_activity_count >= SIGNALS // 2, BUDGET)
    assert len(await runs_of(harness, cid, 2)) >= 2, "no continue-as-new while CAPA runs"

    # The new run remembers what the old one applied (Temporal's de-duplication does not).
    again = await harness.send(handle, Decision.PLAN_CAPA, plan, id="plan-1")
    same = ("update_id", "decision", "audit_seq", "what", "request_hash")
    assert [getattr(again, f) for f in same] == [getattr(planned, f) for f in same]
    other = make.plan(make.action("A2", now + timedelta(days=10)))
    with pytest.raises(DecisionConflictError):
        await harness.send(handle, Decision.PLAN_CAPA, other, id="plan-1")

    # The child outlived the run that started it, and the new run still reaches it.
    await harness.decide(handle, Decision.COMPLETE_ACTION, make.complete("A1"))
    child = harness.client.get_workflow_handle_for(CapaActionWorkflow.run, f"{cid}/capa/A1")
    assert (await child.result()).status is ActionStatus.DONE
    await harness.decide(handle, Decision.VERIFY, make.verify())
    state = await harness.decide(handle, Decision.CLOSE, make.close())
    assert state.status is ComplaintStatus.CLOSED

    # Redelivered after the runs changed (within the bounded memory): recorded once only.
    await signal_activity(handle, range(SIGNALS // 2 - 20, SIGNALS // 2))
    await signal_activity(handle, range(SIGNALS // 2, SIGNALS))
    state = await harness.wait_for(handle, lambda s: s.customer_activity_count >= SIGNALS, BUDGET)
    await signal_activity(handle, range(SIGNALS - 5, SIGNALS))  # and once more, later
    state = await harness.state(handle)
    assert state.customer_activity_count == SIGNALS
    assert len(state.history) <= 100
    recorded = harness.entry_types(cid).count("complaint.customer_activity")
    assert recorded == SIGNALS

    runs = sorted(await runs_of(harness, cid, 3), key=lambda run: run.start_time)
    assert len(runs) >= 3
    assert runs[0].status is WorkflowExecutionStatus.CONTINUED_AS_NEW
    first = harness.client.get_workflow_handle(cid, run_id=runs[0].run_id)
    await harness.record(first, "complaint-continued-as-new-while-capa-runs")
    for run in runs:
        history = await harness.client.get_workflow_handle(cid, run_id=run.run_id).fetch_history()
        size = sum(event.ByteSize() for event in history.events)
        assert len(history.events) < WARN_EVENTS // 4, f"run {run.run_id}: {len(history.events)}"
        assert size < WARN_BYTES // 4, f"run {run.run_id}: {size} bytes"
