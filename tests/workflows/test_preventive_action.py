"""A preventive action (a potential cause elsewhere, ISO 13485 8.5.3) runs like a corrective
one: its own child workflow, owner and due date, and verification after it is done."""

from __future__ import annotations

from datetime import timedelta

import pytest

from schemas.complaint_state import ActionStatus, ComplaintStatus
from schemas.decisions import CapaKind, Decision


@pytest.mark.clause("ISO 13485:2016 8.5.3")
async def test_a_preventive_action_is_planned_done_and_then_verified(harness, make):
    handle = await harness.start()
    await harness.decide(handle, Decision.TRIAGE, make.triage())
    await harness.decide(handle, Decision.INVESTIGATE, make.investigate())
    now = await harness.now()
    state = await harness.decide(
        handle,
        Decision.PLAN_CAPA,
        make.plan(
            make.action(
                "P1",
                now + timedelta(days=30),
                kind=CapaKind.PREVENTIVE,
                description="Same thermostat in the KET-300: tighten incoming inspection",
            )
        ),
    )
    [action] = state.actions
    assert action.kind is CapaKind.PREVENTIVE and action.workflow_id == f"{handle.id}/capa/P1"
    state = await harness.decide(handle, Decision.COMPLETE_ACTION, make.complete("P1"))
    assert state.actions[0].status is ActionStatus.DONE
    assert state.status is ComplaintStatus.VERIFYING
    assert {"capa.planned", "capa.action_completed"} <= set(harness.entry_types(handle.id))
