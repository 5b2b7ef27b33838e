"""An improvement's file as its workflow keeps it: the state, changed only by an audited commit.

The same rule as a complaint's file (`workflows/case_file.py`): the audit entry is written
first, under the improvement id; only then does the state move on and the Temporal UI
(search attributes, current details) follow. One lock makes decisions and escalations take
turns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.audit import AuditActivities, RecordAuditEntry
    from schemas.complaint_state import SignatureMeaning
    from schemas.decisions import DecisionInput
    from schemas.improvement import ImprovementDecision, ImprovementState, StepItem

from workflows import improvement_view as view
from workflows.case_file import ENVELOPE, HISTORY_KEPT, Entry
from workflows.retries import AUDIT_ACTIVITY_TIMEOUT, AUDIT_RETRY, run_activity
from workflows.rules.improvement import is_overdue
from workflows.view import search_attribute_updates


def opened_entry(state: ImprovementState) -> Entry:
    """Who opened it, for what problem, linked to which signal and complaints."""
    opened = state.opened
    return Entry(
        entry_type="improvement.opened",
        key=f"{state.improvement_id}:improvement.opened",
        actor=opened.opened_by,
        what=f"Improvement opened by {opened.opened_by.id}, owner {opened.owner}",
        meaning=SignatureMeaning.APPROVED,
        comment=opened.comment,
        data={
            "owner": opened.owner,
            "problem": opened.problem,
            "signal_id": opened.signal_id,
            "complaint_ids": list(opened.complaint_ids),
            "measure": opened.measure.model_dump(mode="json"),
            "policy": state.policy.model_dump(mode="json"),
            "actor": opened.opened_by.model_dump(),
            "signature": {
                "meaning": SignatureMeaning.APPROVED.value,
                "signed_at": state.opened_at.isoformat(),
            },
            **({"authenticated": opened.authenticated} if opened.authenticated is not None else {}),
        },
    )


def decision_entry(
    decision: ImprovementDecision,
    request: DecisionInput,
    *,
    entry_type: str,
    meaning: SignatureMeaning,
    update_id: str,
    before: ImprovementState,
    after: ImprovementState,
    what: str,
    now: datetime,
    data: dict[str, object] | None = None,
) -> Entry:
    """Who, when, why, what the signature means and the hash of the state it signs."""
    return Entry(
        entry_type=entry_type,
        key=f"{before.improvement_id}:{update_id}",
        actor=request.actor,
        what=what,
        decision=decision.value,
        meaning=meaning,
        comment=request.comment,
        data={
            "decision": decision.value,
            "update_id": update_id,
            "event_id": request.event_id,
            "actor": request.actor.model_dump(),
            "signature": {
                "meaning": meaning.value,
                "state_hash": view.state_hash(before),
                "signed_at": now.isoformat(),
            },
            "from_status": before.status.value,
            "to_status": after.status.value,
            "round": after.round,
            "input": request.model_dump(mode="json", exclude=ENVELOPE),
            **(data or {}),
        },
    )


class ImprovementFile:
    def __init__(self, state: ImprovementState) -> None:
        self.state = state
        self.lock = asyncio.Lock()
        self.version = 0  # bumped on every commit; wakes the deadline keeper
        self._search_attributes: dict[str, object] = {}

    def draft(self) -> ImprovementState:
        return self.state.model_copy(deep=True)

    def changed_since(self, version: int) -> Callable[[], bool]:
        return lambda: self.version != version

    async def commit(self, candidate: ImprovementState, entry: Entry, now: datetime) -> int:
        """Audit first; only then do the state and the UI move on. Returns the entry's seq."""
        audit_seq = entry.audit_seq
        if audit_seq is None:
            audit_seq = await self._audit(entry, now)
        candidate.history.append(
            StepItem(
                at=now,
                status=candidate.status,
                what=entry.what,
                actor=entry.actor.id,
                actor_name=entry.actor.name,
                decision=entry.decision,
                meaning=entry.meaning,
                comment=entry.comment,
                audit_seq=audit_seq,
            )
        )
        del candidate.history[:-HISTORY_KEPT]  # the audit log keeps every entry
        candidate.overdue = is_overdue(candidate)
        self.state = candidate
        self.show(now)
        self.version += 1
        return audit_seq

    async def _audit(self, entry: Entry, now: datetime) -> int:
        receipt = await run_activity(
            AuditActivities.record_audit_entry,
            RecordAuditEntry(
                complaint_id=self.state.improvement_id,
                entry_type=entry.entry_type,
                actor=entry.actor.id,
                occurred_at=now,
                idempotency_key=entry.key,
                reason=entry.comment,
                data=entry.data,
            ),
            start_to_close=AUDIT_ACTIVITY_TIMEOUT,
            retry=AUDIT_RETRY,
            local=True,
        )
        return receipt.seq

    def show(self, now: datetime) -> None:
        values = view.search_attribute_values(self.state)
        updates = search_attribute_updates(values, self._search_attributes)
        if updates:
            workflow.upsert_search_attributes(updates)
        self._search_attributes = values
        workflow.set_current_details(view.details_markdown(self.state, now))
