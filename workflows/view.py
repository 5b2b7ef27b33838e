"""How a complaint looks from outside: the query result, the UI details, search attributes
and the outbound status event. Pure functions of the state and the workflow time."""

from __future__ import annotations

from datetime import datetime

from temporalio.common import SearchAttributeUpdate

from schemas import search_attributes
from schemas.complaint_state import ActionStatus, ComplaintState, ComplaintStatus
from schemas.decisions import Actor, Decision
from schemas.outcomes import DecisionReceipt, DueNext
from schemas.status_event import (
    ComplaintStatusEvent,
    Escalation,
    EventActor,
    EventNextDue,
    EventSimilar,
    StatusEventType,
    status_event_id,
)
from workflows import deadlines
from workflows.judgment import allowed_decisions
from workflows.signature import state_hash


def snapshot(state: ComplaintState, now: datetime) -> ComplaintState:
    """A copy with the derived fields filled in: what the query returns."""
    return state.model_copy(
        update={
            "next_due": deadlines.next_due(state),
            "allowed_decisions": allowed_decisions(state, now),
            "state_hash": state_hash(state),
        },
        deep=True,
    )


def summary(state: ComplaintState) -> str:
    return f"{state.complaint_id}: {state.complaint.summary[:200]}"


def details_markdown(state: ComplaintState, now: datetime) -> str:
    """The current details shown in the Temporal UI (Temporal markdown)."""
    lines = [f"**{state.status}**" + (" — **OVERDUE**" if state.overdue else "")]
    if state.triage:
        triage = state.triage
        reportable = ", reportable" if triage.reportable else ""
        lines.append(
            f"Severity {triage.severity}, {triage.category}{reportable}; assignee {triage.assignee}"
        )
    due = deadlines.next_due(state)
    if due is not None:
        late = " (overdue)" if due.overdue else ""
        lines.append(f"Next due: {due.what} by {due.due_at:%Y-%m-%d %H:%M} UTC{late}")
    open_actions = [a for a in state.actions if a.status is not ActionStatus.DONE]
    if open_actions:
        lines.append(
            "Open CAPA actions: "
            + ", ".join(f"{a.id} ({a.owner}, due {a.due_at:%Y-%m-%d})" for a in open_actions)
        )
    if state.loop:
        lines.append(f"Reopened {state.loop} time(s)")
    if state.similar is not None and state.similar.suggestions:
        lines.append(similar_markdown(state))
    decisions = ", ".join(allowed_decisions(state, now)) or "none"
    lines.append(f"Allowed decisions: {decisions}")
    if state.history:
        last = state.history[-1]
        lines.append(f"Last: {last.what} ({last.actor}, {last.at:%Y-%m-%d %H:%M} UTC)")
    return "\n\n".join(lines)


def similar_markdown(state: ComplaintState) -> str:
    """The suggestions, for a person to confirm (nothing is merged by itself)."""
    assert state.similar is not None
    shown = ", ".join(
        f"{s.complaint_id} ({s.score:.2f}"
        + (", same customer/product/lot)" if s.same_customer_product_lot else ")")
        for s in state.similar.suggestions
    )
    return f"Similar complaints: {shown}"


def similar_in_event(state: ComplaintState) -> list[EventSimilar] | None:
    if state.similar is None:
        return None
    return [
        EventSimilar(
            complaint_id=s.complaint_id,
            score=s.score,
            text_score=s.text_score,
            same_customer_product_lot=s.same_customer_product_lot,
            method=state.similar.method,
            method_version=state.similar.method_version,
        )
        for s in state.similar.suggestions
    ]


def search_attribute_values(state: ComplaintState) -> dict[str, object]:
    """Every Closeloop search attribute's current value (None: unset)."""
    due = deadlines.next_due(state)
    triage = state.triage
    return {
        search_attributes.STATUS.name: state.status.value,
        search_attributes.SEVERITY.name: triage.severity.value if triage else None,
        search_attributes.CATEGORY.name: triage.category if triage else None,
        search_attributes.PRODUCT.name: state.complaint.product.sku,
        search_attributes.CUSTOMER.name: state.complaint.customer.id,
        search_attributes.ASSIGNEE.name: triage.assignee if triage else None,
        search_attributes.OVERDUE.name: state.overdue,
        search_attributes.REPORTABLE.name: state.reportable,
        search_attributes.NEXT_DUE.name: due.due_at if due else None,
    }


def search_attribute_updates(
    values: dict[str, object], previous: dict[str, object]
) -> list[SearchAttributeUpdate]:  # type: ignore[type-arg]
    """Only what changed, so the history holds no redundant upserts."""
    updates: list[SearchAttributeUpdate] = []  # type: ignore[type-arg]
    for key in search_attributes.ALL:
        value = values[key.name]
        if key.name in previous and previous[key.name] == value:
            continue
        if value is None and previous.get(key.name) is None:
            continue
        updates.append(key.value_unset() if value is None else key.value_set(value))
    return updates


def status_event(
    state: ComplaintState,
    *,
    sequence: int,
    now: datetime,
    previous_status: ComplaintStatus | None,
    decision: str | None = None,
    actor: Actor | None = None,
    comment: str = "",
    escalation: Escalation | None = None,
    audit_seq: int | None = None,
) -> ComplaintStatusEvent:
    due = deadlines.next_due(state)
    triage = state.triage
    return ComplaintStatusEvent(
        event_id=status_event_id(state.complaint_id, sequence),
        event_type=StatusEventType.ESCALATED if escalation else StatusEventType.STATUS_CHANGED,
        occurred_at=now,
        complaint_id=state.complaint_id,
        sequence=sequence,
        status=state.status,
        previous_status=previous_status,
        decision=decision,
        actor=EventActor(id=actor.id, name=actor.name) if actor else None,
        comment=comment,
        severity=triage.severity if triage else None,
        category=triage.category if triage else None,
        assignee=triage.assignee if triage else None,
        customer_id=state.complaint.customer.id,
        product_sku=state.complaint.product.sku,
        overdue=state.overdue,
        reportable=state.reportable,
        reopen_count=state.loop,
        next_due=EventNextDue(what=due.what, due_at=due.due_at, overdue=due.overdue)
        if due
        else None,
        escalation=escalation,
        audit_seq=audit_seq,
        similar_complaints=similar_in_event(state),
    )


def receipt(
    state: ComplaintState,
    *,
    decision: Decision,
    update_id: str,
    audit_seq: int,
    what: str,
    request_hash: str,
    now: datetime,
) -> DecisionReceipt:
    """What an accepted decision returns: small, because an Update's result is stored in the
    workflow's history (the full state stays available through the query)."""
    due = deadlines.next_due(state)
    return DecisionReceipt(
        complaint_id=state.complaint_id,
        decision=decision,
        update_id=update_id,
        status=state.status.value,
        state_hash=state_hash(state),
        audit_seq=audit_seq,
        next_due=DueNext(what=due.what, due_at=due.due_at, overdue=due.overdue) if due else None,
        allowed_decisions=allowed_decisions(state, now),
        overdue=state.overdue,
        what=what,
        request_hash=request_hash,
    )
