"""Which `Logic` decides each `Decision` (from the decision specs), and the judgment the
validators share."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from schemas.complaint_state import ComplaintState
from schemas.decisions import Decision, DecisionInput
from schemas.markers import decision_ref, field_ref
from schemas.outcomes import RefusalCode
from workflows import lifecycle
from workflows.decision_spec import SPECS
from workflows.rules import Logic, Refused
from workflows.signature import accepted_hashes

LOGIC: dict[Decision, Logic[Any]] = {spec.decision: spec.logic for spec in SPECS}


def allowed_decisions(state: ComplaintState, now: datetime) -> list[Decision]:
    """What may be decided now: allowed by the lifecycle table and ready by the rules."""
    return [d for d in lifecycle.allowed_in(state.status) if LOGIC[d].ready(state, now) is None]


def judge(state: ComplaintState, decision: Decision, request: DecisionInput, now: datetime) -> None:
    """Raise `Refused` with a message for people unless `decision` may be made now."""
    where = f"complaint {state.complaint_id} is {state.status}"
    allowed = ", ".join(decision_ref(d) for d in allowed_decisions(state, now)) or "none"
    named = decision_ref(decision)
    if not lifecycle.is_allowed(decision, state.status):
        raise Refused(
            f"{where}; {named} is not allowed; allowed decisions: {allowed}",
            RefusalCode.NOT_ALLOWED,
        )
    logic = LOGIC[decision]
    missing = logic.ready(state, now)
    if missing is not None:
        raise Refused(
            f"{where}: {named} needs {missing}; allowed decisions: {allowed}", RefusalCode.NOT_READY
        )
    expected = request.expected_state_hash
    if expected is not None and expected not in accepted_hashes(state):
        raise Refused(
            f"{where}: the complaint changed since state {expected[:12]} was reviewed "
            f"({field_ref('expected_state_hash')}); review the current state and decide again",
            RefusalCode.STATE_CHANGED,
        )
    try:
        logic.check(state, request, now)
    except Refused as refused:
        raise Refused(f"{where}: {named} refused: {refused.template}", refused.code) from None
