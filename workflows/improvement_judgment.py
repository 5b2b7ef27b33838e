"""Whether an improvement decision may be taken now, and how a refusal leaves the workflow:
one `ApplicationError` of type `schemas.outcomes.REFUSED` (or `CONFLICT`) carrying an
`ImprovementRefusal`, worded with markers like a complaint's (`workflows/refusals.py`)."""

from __future__ import annotations

from datetime import datetime

from temporalio.exceptions import ApplicationError

from schemas.decisions import DecisionInput
from schemas.improvement import (
    ImprovementDecision,
    ImprovementReceipt,
    ImprovementRefusal,
    ImprovementState,
)
from schemas.markers import decision_ref, field_ref
from schemas.outcomes import CONFLICT, REFUSED, RefusalCode
from workflows.improvement_spec import SPEC, allowed_decisions
from workflows.improvement_view import state_hash
from workflows.rules import Refused


def judge(
    state: ImprovementState, decision: ImprovementDecision, request: DecisionInput, now: datetime
) -> None:
    """Raise `Refused` with a message for people unless `decision` may be made now."""
    where = f"improvement {state.improvement_id} is {state.status} (round {state.round})"
    allowed = ", ".join(decision_ref(d) for d in allowed_decisions(state, now)) or "none"
    named, spec = decision_ref(decision), SPEC[decision]
    if state.status not in spec.allowed_in:
        raise Refused(
            f"{where}; {named} is not allowed; allowed decisions: {allowed}",
            RefusalCode.NOT_ALLOWED,
        )
    missing = spec.logic.ready(state, now)
    if missing is not None:
        raise Refused(
            f"{where}: {named} needs {missing}; allowed decisions: {allowed}", RefusalCode.NOT_READY
        )
    expected = request.expected_state_hash
    if expected is not None and expected != state_hash(state):
        raise Refused(
            f"{where}: the improvement changed since state {expected[:12]} was reviewed "
            f"({field_ref('expected_state_hash')}); review the current state and decide again",
            RefusalCode.STATE_CHANGED,
        )
    try:
        spec.logic.check(state, request, now)
    except Refused as refused:
        raise Refused(f"{where}: {named} refused: {refused.template}", refused.code) from None


def refusal_error(
    state: ImprovementState, decision: ImprovementDecision, refused: Refused, now: datetime
) -> ApplicationError:
    return as_error(
        ImprovementRefusal(
            code=refused.code,
            improvement_id=state.improvement_id,
            status=state.status,
            decision=decision,
            template=refused.template,
            allowed=allowed_decisions(state, now),
        )
    )


def conflict_error(
    state: ImprovementState,
    decision: ImprovementDecision,
    update_id: str,
    earlier: ImprovementReceipt,
) -> ApplicationError:
    return as_error(
        ImprovementRefusal(
            code=RefusalCode.CONFLICT,
            improvement_id=state.improvement_id,
            status=state.status,
            decision=decision,
            template=(
                f"update id {update_id} ({field_ref('update_id')}) was already used for a "
                f"{decision_ref(earlier.decision)} with other content (audit "
                f"#{earlier.audit_seq}); nothing was changed: send new content with a new "
                "update id"
            ),
        )
    )


def as_error(refusal: ImprovementRefusal) -> ApplicationError:
    kind = CONFLICT if refusal.code is RefusalCode.CONFLICT else REFUSED
    return ApplicationError(
        refusal.plain(), refusal.model_dump(mode="json"), type=kind, non_retryable=True
    )
