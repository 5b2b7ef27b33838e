"""A complaint's workflow history stays small: receipts instead of states, local activities
for the audit log and the status events, one timer per due time (issue 8)."""

from __future__ import annotations

from datetime import timedelta

from schemas.decisions import Decision

MAX_EVENTS = 120
MAX_BYTES = 150_000


async def test_a_complaint_closed_with_one_capa_action_keeps_a_small_history(harness, make):
    handle = await harness.start()
    await harness.decide(handle, Decision.TRIAGE, make.triage())
    await harness.decide(handle, Decision.INVESTIGATE, make.investigate())
    now = await harness.now()
    await harness.decide(
        handle, Decision.PLAN_CAPA, make.plan(make.action("A1", now + timedelta(days=10)))
    )
    await harness.skip(timedelta(days=5))
    await harness.decide(handle, Decision.COMPLETE_ACTION, make.complete("A1"))
    await harness.skip(timedelta(days=31))
    await harness.decide(handle, Decision.VERIFY, make.verify())
    await harness.decide(handle, Decision.CLOSE, make.close())
    await harness.result(handle)
    await harness.record(handle, "complaint-closed-with-one-action-small")
    history = await handle.fetch_history()
    size = sum(event.ByteSize() for event in history.events)
    assert len(history.events) <= MAX_EVENTS, f"{len(history.events)} events"
    assert size <= MAX_BYTES, f"{size} bytes"
