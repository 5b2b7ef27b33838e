"""Investigation and root-cause analysis (ISO 9001:2015 10.2.1 b), or a documented decision
not to investigate. A complaint cannot leave investigation without one of the two."""

from __future__ import annotations

from schemas.complaint_state import (
    ComplaintState,
    ComplaintStatus,
    InvestigationDeclined,
    InvestigationRecord,
    Signed,
)
from schemas.decisions import DeadlineStage, DeclineInvestigationInput, InvestigateInput
from workflows import deadlines
from workflows.rules import Logic


def concluded(state: ComplaintState) -> bool:
    """A final investigation, or a decision not to investigate, in the current loop."""
    if any(record.final for record in state.current_loop_investigations()):
        return True
    return any(record.loop == state.loop for record in state.investigation_declined)


def no_capa_needed(state: ComplaintState) -> bool:
    """Declined, or the final investigation found no action needed (10.2.1 c evaluated)."""
    if any(record.loop == state.loop for record in state.investigation_declined):
        return True
    finals = [record for record in state.current_loop_investigations() if record.final]
    return bool(finals) and not finals[-1].capa_needed


def apply_investigate(state: ComplaintState, request: InvestigateInput, signed: Signed) -> str:
    state.investigations.append(
        InvestigationRecord(
            **dict(signed),
            method=request.method,
            method_detail=request.method_detail,
            root_causes=list(request.root_causes),
            contributing_factors=list(request.contributing_factors),
            evidence=list(request.evidence),
            final=request.final,
            capa_needed=request.capa_needed,
        )
    )
    state.status = ComplaintStatus.INVESTIGATING
    if request.final:
        deadlines.meet(state, DeadlineStage.INVESTIGATION, at=signed.at)
    kind = "Investigation concluded" if request.final else "Preliminary finding"
    causes = "; ".join(request.root_causes)
    outcome = "" if request.capa_needed else " (no CAPA needed)"
    return f"{kind} ({request.method}): {causes}{outcome}"


def apply_decline(state: ComplaintState, request: DeclineInvestigationInput, signed: Signed) -> str:
    state.investigation_declined.append(
        InvestigationDeclined(**dict(signed), reason=request.reason)
    )
    state.status = ComplaintStatus.INVESTIGATING
    deadlines.meet(state, DeadlineStage.INVESTIGATION, at=signed.at)
    return f"Decided not to investigate: {request.reason}"


INVESTIGATE = Logic(apply=apply_investigate)
DECLINE_INVESTIGATION = Logic(apply=apply_decline)
