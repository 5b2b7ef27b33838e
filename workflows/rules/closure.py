"""Verification of effectiveness (ISO 9001:2015 10.2.1 d), closure with the response to the
customer (ISO 10002 8.6), and reopening when verification fails or the problem recurs."""

from __future__ import annotations

from datetime import datetime

from schemas.complaint_state import (
    ClosureRecord,
    ComplaintState,
    ComplaintStatus,
    ReopenRecord,
    Signed,
    VerificationRecord,
)
from schemas.decisions import (
    CloseInput,
    DeadlineStage,
    ReopenInput,
    ReopenReason,
    VerifyInput,
)
from schemas.markers import decision_ref as D
from schemas.markers import field_ref as F
from workflows import deadlines
from workflows.rules import Logic, Refused, reporting
from workflows.rules.investigation import no_capa_needed


def check_verify(state: ComplaintState, request: VerifyInput, now: datetime) -> None:
    verifier = {request.actor.id.casefold(), request.actor.name.casefold()} - {""}
    owned = [a.id for a in state.actions if a.owner.casefold() in verifier]
    if owned:
        raise Refused(
            f"{request.actor.label} owns CAPA action {', '.join(owned)}; effectiveness must be "
            "verified by someone who owns none of the actions"
        )
    not_before = state.verification_not_before
    if not_before is not None and now < not_before and request.override_wait_reason is None:
        raise Refused(
            f"verification is planned for {not_before:%Y-%m-%d %H:%M} UTC or later (the wait "
            f"after the last action); give {F('override_wait_reason')} to verify earlier"
        )


def apply_verify(state: ComplaintState, request: VerifyInput, signed: Signed) -> str:
    state.verifications.append(
        VerificationRecord(
            **dict(signed),
            effective=request.effective,
            evidence=list(request.evidence),
            override_wait_reason=request.override_wait_reason,
        )
    )
    deadlines.meet(state, DeadlineStage.VERIFICATION, at=signed.at)
    if request.effective:
        return "Verified effective"
    explanation = request.comment or "verification found the actions not effective"
    _reopen(state, ReopenReason.VERIFICATION_FAILED, explanation, signed)
    return f"Verified NOT effective: reopened (loop {state.loop}), back to investigation"


def close_ready(state: ComplaintState, now: datetime) -> str | None:
    if state.status is ComplaintStatus.INVESTIGATING and not no_capa_needed(state):
        return (
            f"a decision not to investigate ({D('decline_investigation')}), or a final "
            f"investigation that found no CAPA needed (otherwise {D('plan_capa')})"
        )
    if state.status is ComplaintStatus.VERIFYING:
        loop_verifications = [v for v in state.verifications if v.loop == state.loop]
        if not loop_verifications or not loop_verifications[-1].effective:
            return f"a verification that found the actions effective ({D('verify')})"
    return reporting.close_needs(state)


def apply_close(state: ComplaintState, request: CloseInput, signed: Signed) -> str:
    state.closure = ClosureRecord(
        **dict(signed),
        customer_response=request.customer_response,
        response_channel=request.response_channel,
    )
    state.status = ComplaintStatus.CLOSED
    deadlines.meet(state, DeadlineStage.CLOSURE, at=signed.at)
    deadlines.cancel_all(state, at=signed.at)
    return f"Closed; response sent to the customer: {request.customer_response[:120]}"


def apply_reopen(state: ComplaintState, request: ReopenInput, signed: Signed) -> str:
    _reopen(state, request.reason, request.explanation, signed)
    return f"Reopened ({request.reason}, loop {state.loop}): {request.explanation[:120]}"


def _reopen(state: ComplaintState, reason: ReopenReason, explanation: str, signed: Signed) -> None:
    """Back to investigation, counting the loop; a closed case gets a new closure deadline."""
    triage = state.triage
    assert triage is not None, "only triaged complaints reach verification or closure"
    from_status, now = state.status, signed.at
    state.loop += 1
    state.reopenings.append(
        ReopenRecord(
            **{**dict(signed), "loop": state.loop},
            reason=reason,
            explanation=explanation,
            from_status=from_status,
        )
    )
    state.status = ComplaintStatus.REOPENED
    state.verification_not_before = None
    deadlines.cancel(state, DeadlineStage.VERIFICATION, at=now)
    policy = state.policy
    deadlines.open_deadline(
        state,
        DeadlineStage.INVESTIGATION,
        clock_start=now,
        due_at=now + policy.investigation.for_severity(triage.severity),
    )
    if state.active_deadline(DeadlineStage.CLOSURE) is None:
        deadlines.open_deadline(
            state,
            DeadlineStage.CLOSURE,
            clock_start=now,
            due_at=now + policy.closure.for_severity(triage.severity),
        )


VERIFY = Logic(apply=apply_verify, check=check_verify)
CLOSE = Logic(apply=apply_close, ready=close_ready)
REOPEN = Logic(apply=apply_reopen)
