"""How an improvement looks from outside: the query result, the receipt, the Temporal UI's
details and search attributes. Pure functions of the state and the workflow time."""

from __future__ import annotations

from datetime import datetime

from schemas import search_attributes
from schemas.complaint_state import ActionStatus
from schemas.improvement import (
    DERIVED_FIELDS,
    ImprovementDecision,
    ImprovementReceipt,
    ImprovementState,
)
from schemas.outcomes import DueNext
from workflows.improvement_spec import allowed_decisions
from workflows.rules.improvement import STAGE_LABELS
from workflows.signature import hash_of


def state_hash(state: ImprovementState) -> str:
    return hash_of(state, DERIVED_FIELDS)


def next_due(state: ImprovementState) -> DueNext | None:
    """The earliest open stage deadline or open action of this round."""
    items = [
        DueNext(what=STAGE_LABELS[s.stage], due_at=s.due_at, overdue=s.escalated_at is not None)
        for s in state.stages
        if s.active
    ]
    items += [
        DueNext(what=f"action {a.id} ({a.owner})", due_at=a.due_at, overdue=a.overdue)
        for a in state.actions
        if a.status is not ActionStatus.DONE
    ]
    return min(items, key=lambda item: item.due_at, default=None)


def snapshot(state: ImprovementState, now: datetime) -> ImprovementState:
    return state.model_copy(
        update={
            "next_due": next_due(state),
            "allowed_decisions": allowed_decisions(state, now),
            "state_hash": state_hash(state),
        },
        deep=True,
    )


def receipt(
    state: ImprovementState,
    *,
    decision: ImprovementDecision,
    update_id: str,
    audit_seq: int,
    what: str,
    request_hash: str,
    now: datetime,
) -> ImprovementReceipt:
    return ImprovementReceipt(
        improvement_id=state.improvement_id,
        decision=decision,
        update_id=update_id,
        status=state.status,
        state_hash=state_hash(state),
        audit_seq=audit_seq,
        next_due=next_due(state),
        allowed_decisions=allowed_decisions(state, now),
        overdue=state.overdue,
        what=what,
        request_hash=request_hash,
    )


def details_markdown(state: ImprovementState, now: datetime) -> str:
    opened = state.opened
    lines = [
        f"**{state.status}** (round {state.round})" + (" — **OVERDUE**" if state.overdue else ""),
        f"Owner {opened.owner}: {opened.problem[:300]}",
        f"Measure: {opened.measure.figure} ({opened.measure.better} is better)",
    ]
    if opened.signal_id:
        lines.append(f"Signal {opened.signal_id}")
    due = next_due(state)
    if due is not None:
        late = " (overdue)" if due.overdue else ""
        lines.append(f"Next due: {due.what} by {due.due_at:%Y-%m-%d %H:%M} UTC{late}")
    lines.append("Allowed decisions: " + (", ".join(allowed_decisions(state, now)) or "none"))
    return "\n\n".join(lines)


def search_attribute_values(state: ImprovementState) -> dict[str, object]:
    """The shared Closeloop search attributes: status, owner (as assignee), the measure's
    product and category, overdue and next due; the complaint-only ones stay unset."""
    due = next_due(state)
    filters = state.opened.measure.filters
    values: dict[str, object] = {key.name: None for key in search_attributes.ALL}
    values.update(
        {
            search_attributes.STATUS.name: state.status.value,
            search_attributes.ASSIGNEE.name: state.opened.owner,
            search_attributes.PRODUCT.name: filters.get("product"),
            search_attributes.CATEGORY.name: filters.get("category"),
            search_attributes.OVERDUE.name: state.overdue,
            search_attributes.NEXT_DUE.name: due.due_at if due else None,
        }
    )
    return values
