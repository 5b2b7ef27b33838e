"""An improvement's Plan-Do-Check-Act cycle, on the time-skipping server: every path a
quality manager takes, the deadlines that escalate, the decisions that are refused."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.testing import WorkflowEnvironment

from audit.store import AuditLog
from base.improvements import ImprovementRefusedError
from schemas import search_attributes
from schemas.complaint_state import ActionStatus, CapaAction
from schemas.deadlines import ImprovementPolicy
from schemas.improvement import (
    ImprovementDecision as Dn,
)
from schemas.improvement import (
    ImprovementStage,
    ImprovementStatus,
    Measure,
    Verdict,
)
from schemas.outcomes import RefusalCode
from tests.workflows.improvements import PRODUCT, WEEK, Improvements, Make

DAY = timedelta(days=1)


@pytest.fixture
def worker_policy() -> ImprovementPolicy:
    """The deadlines the worker hands to new improvements; tests may override it."""
    return ImprovementPolicy()


@pytest.fixture
async def improvements(
    time_skipping_env: WorkflowEnvironment,
    search_attributes_registered: None,
    sqlite_url: str,
    tmp_path: Path,
    worker_policy: ImprovementPolicy,
) -> AsyncIterator[Improvements]:
    audit_log = AuditLog.from_url(sqlite_url)
    harness = Improvements(time_skipping_env, audit_log, tmp_path / "home", worker_policy)
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with harness.worker(executor):
            try:
                yield harness
            finally:
                await harness.terminate_running()
    audit_log.engine.dispose()


@pytest.mark.clause("ISO 9001:2015 10.3", "ISO 10002:2018 8.7", "ISO 13485:2016 8.5.3")
async def test_fewer_complaints_after_the_actions_standardise_the_change(
    improvements: Improvements,
):
    t0 = await improvements.now()
    # The level before: 4 complaints a week about the kettle, 1 a week about something else.
    for week in (1, 2):
        improvements.received(t0 - week * WEEK + DAY, count=4)
        improvements.received(t0 - week * WEEK + DAY, product="TOA-10")
    handle = await improvements.open()
    improvement_id = handle.id.removeprefix("improvement/")
    state = await improvements.state(handle)
    assert state.status is ImprovementStatus.PLANNING
    assert state.allowed_decisions == [Dn.PLAN]
    assert state.next_due is not None and state.next_due.what == "plan the improvement"
    signed_before_plan = state.state_hash

    receipt = await improvements.send(handle, Dn.PLAN, Make.plan(Make.action("A1", t0 + 5 * DAY)))
    assert receipt.status is ImprovementStatus.DOING
    child = improvements.client.get_workflow_handle(f"improvement/{improvement_id}/capa/A1")
    action = await child.query("action_state", result_type=CapaAction)
    assert action.status is ActionStatus.OPEN and action.owner == "eng.park"

    receipt = await improvements.send(handle, Dn.COMPLETE_ACTION, Make.complete("A1"))
    assert receipt.status is ImprovementStatus.CHECKING
    state = await improvements.state(handle)
    done = state.actions_done_at
    assert done is not None
    assert state.actions[0].status is ActionStatus.DONE

    # Nothing can be checked before the periods after the actions have passed…
    refusal = await improvements.refused(handle, Dn.CHECK, Make.check())
    assert refusal.code is RefusalCode.NOT_READY
    assert "{field:override_wait_reason}" in refusal.template

    # …after them: 1 complaint a week.
    for week in (0, 1):
        improvements.received(done + week * WEEK + DAY)
    await improvements.skip(2 * WEEK + DAY)
    receipt = await improvements.send(handle, Dn.CHECK, Make.check())
    assert receipt.status is ImprovementStatus.ACTING
    assert receipt.allowed_decisions == [Dn.STANDARDISE, Dn.GO_ROUND_AGAIN]
    check = (await improvements.state(handle)).checks[-1]
    assert [p.value for p in check.before] == [4.0, 4.0]
    assert [p.value for p in check.after] == [1.0, 1.0]
    assert (check.before_level, check.after_level, check.verdict) == (4.0, 1.0, Verdict.IMPROVED)
    assert check.before[-1].end == state.opened_at and check.after[0].start == done
    assert check.tree_size > 0

    receipt = await improvements.send(handle, Dn.STANDARDISE, Make.standardise())
    assert receipt.status is ImprovementStatus.STANDARDISED and receipt.allowed_decisions == []
    final = await handle.result()
    assert final.status is ImprovementStatus.STANDARDISED

    assert improvements.entry_types(improvement_id) == [
        "improvement.opened",
        "improvement.planned",
        "improvement.action_completed",
        "improvement.checked",
        "improvement.standardised",
    ]
    opened, planned, completed, checked, standardised = improvements.entries(improvement_id)
    assert opened.actor == "qm.lee" and opened.data["signal_id"] == "SIG-c-chart-KET-200-2026-11"
    assert opened.data["complaint_ids"] == ["C-1001", "C-1002"]
    assert opened.data["measure"]["filters"] == {"product": PRODUCT}
    assert planned.data["signature"]["meaning"] == "approved"
    assert planned.data["signature"]["state_hash"] == signed_before_plan
    assert completed.actor == "eng.park" and completed.data["input"]["evidence"] == ["qms://wi/A1"]
    assert checked.data["signature"]["meaning"] == "reviewed"
    assert checked.data["check"]["before_level"] == 4.0
    assert checked.data["check"]["after_level"] == 1.0
    assert [p["label"] for p in checked.data["check"]["after"]] == ["after 1", "after 2"]
    assert standardised.data["signature"]["meaning"] == "closed"
    assert standardised.data["input"]["standard"] == "WI-114 rev C: inspect 1 in 50"
    await improvements.record(handle, "improvement-standardised")


@pytest.mark.clause("ISO 9001:2015 10.3", "ISO 10002:2018 8.7")
async def test_no_improvement_goes_round_again_then_standardises(improvements: Improvements):
    t0 = await improvements.now()
    improvements.received(t0 - WEEK + DAY, count=3)
    improvements.received(t0 - 2 * WEEK + DAY, count=3)
    handle = await improvements.open()
    improvement_id = handle.id.removeprefix("improvement/")
    await improvements.send(handle, Dn.PLAN, Make.plan(Make.action("A1", t0 + 3 * DAY)))
    await improvements.send(handle, Dn.COMPLETE_ACTION, Make.complete("A1"))
    done = (await improvements.state(handle)).actions_done_at
    assert done is not None
    improvements.received(done + DAY, count=3)
    improvements.received(done + WEEK + DAY, count=4)
    await improvements.skip(2 * WEEK + DAY)
    await improvements.send(handle, Dn.CHECK, Make.check())
    state = await improvements.state(handle)
    assert state.checks[-1].verdict is Verdict.NOT_IMPROVED
    assert state.allowed_decisions == [Dn.GO_ROUND_AGAIN]

    refusal = await improvements.refused(handle, Dn.STANDARDISE, Make.standardise())
    assert refusal.code is RefusalCode.NOT_READY
    assert "not_improved" in refusal.template and "{decision:go_round_again}" in refusal.template

    receipt = await improvements.send(handle, Dn.GO_ROUND_AGAIN, Make.again())
    assert receipt.status is ImprovementStatus.PLANNING
    state = await improvements.state(handle)
    assert state.round == 2 and state.actions_done_at is None
    assert state.active_stage(ImprovementStage.PLAN) is not None

    now = await improvements.now()
    refusal = await improvements.refused(handle, Dn.PLAN, Make.plan(Make.action("A1", now + DAY)))
    assert "already has actions A1" in refusal.template
    await improvements.send(handle, Dn.PLAN, Make.plan(Make.action("A2", now + 3 * DAY)))
    await improvements.send(handle, Dn.COMPLETE_ACTION, Make.complete("A2"))
    done = (await improvements.state(handle)).actions_done_at
    assert done is not None
    improvements.received(done + DAY)
    # An early check says why, and measures only what has passed.
    await improvements.skip(WEEK + DAY)
    reason = "The line changed its supplier: decide before the next order"
    await improvements.send(handle, Dn.CHECK, Make.check(override_wait_reason=reason))
    state = await improvements.state(handle)
    check = state.checks[-1]
    assert check.round == 2 and check.override_wait_reason == reason
    assert [p.label for p in check.after] == ["after 1", "after 2"]
    assert check.after[-1].end < check.after[-1].start + WEEK
    # Against the level before the improvement, not before round 2.
    assert check.before_level == 3.0 and check.verdict is Verdict.IMPROVED
    await improvements.send(handle, Dn.STANDARDISE, Make.standardise())
    assert (await handle.result()).status is ImprovementStatus.STANDARDISED
    assert improvements.entry_types(improvement_id) == [
        "improvement.opened",
        "improvement.planned",
        "improvement.action_completed",
        "improvement.checked",
        "improvement.round_again",
        "improvement.planned",
        "improvement.action_completed",
        "improvement.checked",
        "improvement.standardised",
    ]
    round_again = improvements.entries(improvement_id)[4]
    assert (
        round_again.data["from_status"] == "acting" and round_again.data["to_status"] == "planning"
    )
    assert round_again.data["round"] == 2
    await improvements.record(handle, "improvement-round-again-then-standardised")


async def test_a_late_plan_and_a_late_action_are_escalated_and_stay_open(
    improvements: Improvements,
):
    handle = await improvements.open()
    improvement_id = handle.id.removeprefix("improvement/")
    await improvements.skip(15 * DAY)  # the plan was due within 14 days
    state = await improvements.wait_for(handle, lambda s: s.overdue)
    assert state.status is ImprovementStatus.PLANNING
    assert improvements.entry_types(improvement_id) == [
        "improvement.opened",
        "improvement.escalated",
    ]
    escalated = improvements.entries(improvement_id)[1]
    assert escalated.actor == "closeloop" and escalated.data["stage"] == "plan"
    assert (await handle.describe()).typed_search_attributes.get(search_attributes.OVERDUE)

    now = await improvements.now()
    await improvements.send(handle, Dn.PLAN, Make.plan(Make.action("A1", now + DAY)))
    state = await improvements.state(handle)
    assert not state.overdue  # the plan came, late; no action is late yet
    await improvements.skip(2 * DAY)
    state = await improvements.wait_for(handle, lambda s: s.actions[0].overdue)
    assert state.overdue and state.status is ImprovementStatus.DOING
    assert improvements.entry_types(improvement_id)[-1] == "capa.action_overdue"
    overdue = improvements.entries(improvement_id)[-1]
    assert overdue.data["action_id"] == "A1" and overdue.data["owner"] == "eng.park"
    assert state.history[-1].audit_seq == overdue.seq

    await improvements.send(handle, Dn.COMPLETE_ACTION, Make.complete("A1"))
    state = await improvements.state(handle)
    assert not state.overdue and state.status is ImprovementStatus.CHECKING


async def test_illegal_decisions_are_refused_without_a_trace(improvements: Improvements):
    handle = await improvements.open()
    now = await improvements.now()
    refusal = await improvements.refused(handle, Dn.CHECK, Make.check())
    assert refusal.code is RefusalCode.NOT_ALLOWED and refusal.allowed == [Dn.PLAN]
    assert "is planning (round 1)" in refusal.template
    refusal = await improvements.refused(handle, Dn.STANDARDISE, Make.standardise())
    assert refusal.code is RefusalCode.NOT_ALLOWED
    refusal = await improvements.refused(
        handle, Dn.PLAN, Make.plan(Make.action("A1", now + DAY), Make.action("A1", now + DAY))
    )
    assert refusal.code is RefusalCode.INVALID and "{field:actions.id}" in refusal.template
    refusal = await improvements.refused(handle, Dn.PLAN, Make.plan(Make.action("A1", now - DAY)))
    assert "{field:actions.due_at}" in refusal.template
    refusal = await improvements.refused(
        handle, Dn.PLAN, Make.plan(Make.action("A1", now + DAY), expected_state_hash="0" * 64)
    )
    assert refusal.code is RefusalCode.STATE_CHANGED

    state = await improvements.state(handle)
    plan = Make.plan(Make.action("A1", now + DAY), expected_state_hash=state.state_hash)
    await improvements.send(handle, Dn.PLAN, plan, id="plan-once")
    again = await improvements.send(handle, Dn.PLAN, plan, id="plan-once")  # a retry: same receipt
    assert again.status is ImprovementStatus.DOING
    refusal = await improvements.refused(handle, Dn.COMPLETE_ACTION, Make.complete("A9"))
    assert "no action A9 in round 1" in refusal.template
    assert "{field:action_id}" in refusal.template
    improvement_id = handle.id.removeprefix("improvement/")
    assert improvements.entry_types(improvement_id) == ["improvement.opened", "improvement.planned"]


async def test_a_figure_that_cannot_be_measured_refuses_the_check_and_records_nothing(
    improvements: Improvements,
):
    measure = Measure(figure="happiness", periods=1, period=WEEK)  # not a `closeloop kpi` figure
    handle = await improvements.open(measure=measure)
    improvement_id = handle.id.removeprefix("improvement/")
    now = await improvements.now()
    await improvements.send(handle, Dn.PLAN, Make.plan(Make.action("A1", now + DAY)))
    await improvements.send(handle, Dn.COMPLETE_ACTION, Make.complete("A1"))
    await improvements.skip(WEEK + DAY)
    with pytest.raises(ImprovementRefusedError) as refused:
        await improvements.send(handle, Dn.CHECK, Make.check())
    assert "the figure could not be measured: 'happiness' is not a figure" in str(refused.value)
    assert (await improvements.state(handle)).status is ImprovementStatus.CHECKING
    assert improvements.entry_types(improvement_id)[-1] == "improvement.action_completed"


@pytest.mark.parametrize("worker_policy", [ImprovementPolicy(plan=2 * DAY)])
async def test_the_workers_deadlines_apply_unless_the_improvement_brings_its_own(
    improvements: Improvements,
):
    configured = await improvements.open()
    own = await improvements.open(policy=ImprovementPolicy(plan=5 * DAY))
    await improvements.skip(3 * DAY)
    state = await improvements.wait_for(configured, lambda s: s.overdue)
    assert state.policy.plan == 2 * DAY
    assert improvements.entries(state.improvement_id)[0].data["policy"]["plan"] == "P2D"
    own_state = await improvements.state(own)
    assert own_state.policy.plan == 5 * DAY and not own_state.overdue
