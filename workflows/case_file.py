"""The complaint's file as its workflow keeps it: the state, changed only by an audited commit.

A commit writes the audit entry first; only then does the state move on, the Temporal UI
(search attributes, current details) follow, and a status event join the outbox, which one
task sends to Kafka in order. One lock makes decisions, escalations and facts take turns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.audit import AuditActivities, AuditReceipt, RecordAuditEntry
    from activities.status import StatusPublisher
    from schemas.complaint_state import ComplaintState, HistoryItem, SignatureMeaning
    from schemas.decisions import Actor, Decision, DecisionInput
    from schemas.status_event import ComplaintStatusEvent, Escalation

from workflows import deadlines, lifecycle, view
from workflows.retries import (
    AUDIT_ACTIVITY_TIMEOUT,
    AUDIT_RETRY,
    PUBLISH_ACTIVITY_TIMEOUT,
    PUBLISH_RETRY,
    run_activity,
)
from workflows.rules.related import linked_complaint, suggestion_evidence
from workflows.signature import STATE_ENCODING

# The state keeps the latest entries only: it travels in every query and continue-as-new,
# and the audit log is the record (issue 8). Runs from before replay unbounded.
HISTORY_KEPT = 100
BOUNDED_HISTORY = "bounded-history"

# Request fields that are the envelope, not the decision: kept out of the audit `input`.
ENVELOPE = {"actor", "comment", "event_id", "expected_state_hash", "occurred_at"}


@dataclass
class Entry:
    """One audit entry and how it shows in the history and on the status topic."""

    entry_type: str
    key: str
    actor: Actor
    what: str
    data: dict[str, Any] = field(default_factory=dict)
    decision: str | None = None
    meaning: SignatureMeaning | None = None
    comment: str = ""
    escalation: Escalation | None = None
    audit_seq: int | None = None  # already written elsewhere (by a CAPA child)


def decision_entry(
    decision: Decision,
    request: DecisionInput,
    *,
    update_id: str,
    before: ComplaintState,
    after: ComplaintState,
    what: str,
    signed_hash: str,
    now: datetime,
) -> Entry:
    """Who, when, why, what the signature means and the hash of the state it signs."""
    rule = lifecycle.RULES[decision]
    entry = Entry(
        entry_type=rule.entry_type,
        key=f"{before.complaint_id}:{update_id}",
        actor=request.actor,
        what=what,
        decision=decision.value,
        meaning=rule.meaning,
        comment=request.comment,
        data={
            "decision": decision.value,
            "update_id": update_id,
            "event_id": request.event_id,
            "occurred_at": request.occurred_at.isoformat() if request.occurred_at else None,
            "actor": request.actor.model_dump(),
            "signature": {
                "meaning": rule.meaning.value,
                "state_hash": signed_hash,
                "state_encoding": STATE_ENCODING,
                "signed_at": now.isoformat(),
            },
            "from_status": before.status.value,
            "to_status": after.status.value,
            "loop": after.loop,
            "input": request.model_dump(mode="json", exclude=ENVELOPE),
        },
    )
    # A duplicate or related complaint: the score, method and version of the suggestion
    # (only in runs that made the lookup, so older runs record what they recorded).
    other = linked_complaint(request)
    evidence = suggestion_evidence(before.similar, other) if other else None
    if evidence is not None:
        entry.data["similarity"] = evidence
    return entry


class CaseFile:
    def __init__(self, state: ComplaintState) -> None:
        self.state = state
        self.lock = asyncio.Lock()  # one decision, escalation or fact at a time
        self.version = 0  # bumped on every commit; wakes whoever waits for a change
        self._outbox: list[ComplaintStatusEvent] = []
        self._search_attributes: dict[str, object] = {}
        self._closing = False
        # set by the workflow at the start of its run (patches decided once per run)
        self.bounded_history = False
        self.local_activities = False

    def draft(self) -> ComplaintState:
        """A copy to change; it becomes the state only through `commit`."""
        return self.state.model_copy(deep=True)

    def changed_since(self, version: int) -> Callable[[], bool]:
        return lambda: self.version != version

    def snapshot(self) -> ComplaintState:
        return view.snapshot(self.state, workflow.now())

    async def commit(self, candidate: ComplaintState, entry: Entry, now: datetime) -> int:
        """Audit first; only then do the state, the UI and downstream systems move on.
        Returns the audit log's sequence number of the entry."""
        previous = self.state
        audit_seq = entry.audit_seq
        if audit_seq is None:
            audit_seq = (await self._audit(entry, now)).seq
        candidate.history.append(
            HistoryItem(
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
        if self.bounded_history and len(candidate.history) > HISTORY_KEPT:
            del candidate.history[:-HISTORY_KEPT]  # the audit log keeps every entry
        candidate.overdue = deadlines.is_overdue(candidate)
        changed = candidate.status is not previous.status or previous.history == []
        if changed or entry.escalation is not None:
            candidate.status_events_published += 1
            self._outbox.append(
                view.status_event(
                    candidate,
                    sequence=candidate.status_events_published,
                    now=now,
                    previous_status=previous.status if previous.history else None,
                    decision=entry.decision,
                    actor=entry.actor,
                    comment=entry.comment,
                    escalation=entry.escalation,
                    audit_seq=audit_seq,
                )
            )
        self.state = candidate
        self.show(now)
        self.version += 1
        return audit_seq

    async def _audit(self, entry: Entry, now: datetime) -> AuditReceipt:
        return await run_activity(
            AuditActivities.record_audit_entry,
            RecordAuditEntry(
                complaint_id=self.state.complaint_id,
                entry_type=entry.entry_type,
                actor=entry.actor.id,
                occurred_at=now,
                idempotency_key=entry.key,
                reason=entry.comment,
                data=entry.data,
            ),
            start_to_close=AUDIT_ACTIVITY_TIMEOUT,
            retry=AUDIT_RETRY,
            local=self.local_activities,
        )

    def show(self, now: datetime) -> None:
        """Search attributes (only what changed) and the UI's current details."""
        values = view.search_attribute_values(self.state)
        updates = view.search_attribute_updates(values, self._search_attributes)
        if updates:
            workflow.upsert_search_attributes(updates)
        self._search_attributes = values
        workflow.set_current_details(view.details_markdown(self.state, now))

    async def publish_in_order(self) -> None:
        """Send status events one at a time, in order; a broker outage only delays them.
        Returns once `close_outbox` was called and everything is sent."""
        while True:
            await workflow.wait_condition(lambda: bool(self._outbox) or self._closing)
            if not self._outbox:
                return
            event = self._outbox[0]
            await run_activity(
                StatusPublisher.publish_status_event,
                event,
                start_to_close=PUBLISH_ACTIVITY_TIMEOUT,
                retry=PUBLISH_RETRY,
                local=self.local_activities,
                summary=f"{event.event_type.value} #{event.sequence}: {event.status.value}",
            )
            self._outbox.pop(0)

    def close_outbox(self) -> None:
        self._closing = True
