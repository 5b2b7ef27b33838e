"""How a refused decision leaves the workflow: one `ApplicationError` carrying a `Refusal`.

Validators and handlers both refuse through here, so every surface receives the same shape:
type `schemas.outcomes.REFUSED` (or `CONFLICT` for an update id reused for other content),
the `Refusal` as its only detail, and the plain rendering as its message.
"""

from __future__ import annotations

from datetime import datetime

from temporalio.exceptions import ApplicationError

from schemas.complaint_state import ComplaintState
from schemas.decisions import Decision
from schemas.markers import decision_ref, field_ref
from schemas.outcomes import CONFLICT, REFUSED, DecisionReceipt, Refusal, RefusalCode
from workflows.judgment import allowed_decisions
from workflows.rules import Refused


def refusal_error(
    state: ComplaintState, decision: Decision, refused: Refused, now: datetime
) -> ApplicationError:
    refusal = Refusal(
        code=refused.code,
        complaint_id=state.complaint_id,
        status=state.status.value,
        decision=decision,
        template=refused.template,
        allowed=allowed_decisions(state, now),
    )
    return as_error(refusal)


def conflict_error(
    state: ComplaintState, decision: Decision, update_id: str, earlier: DecisionReceipt
) -> ApplicationError:
    """The update id was already used for another decision or other content (bug 8.5)."""
    refusal = Refusal(
        code=RefusalCode.CONFLICT,
        complaint_id=state.complaint_id,
        status=state.status.value,
        decision=decision,
        template=(
            f"update id {update_id} ({field_ref('update_id')}) was already used for a "
            f"{decision_ref(earlier.decision)} with other content (audit #{earlier.audit_seq}); "
            "nothing was changed: send new content with a new update id"
        ),
    )
    return as_error(refusal)


def as_error(refusal: Refusal) -> ApplicationError:
    kind = CONFLICT if refusal.code is RefusalCode.CONFLICT else REFUSED
    return ApplicationError(
        refusal.plain(), refusal.model_dump(mode="json"), type=kind, non_retryable=True
    )
