"""Linking a complaint to a related one: a person's judgment, never the lookup's.

The lookup at intake only suggests (`ComplaintState.similar`); a link records who
confirmed it, why, and the score the suggestion had (none when the operator found the
other complaint on their own), so the audit entry shows what the operator was shown.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from schemas.complaint_state import ComplaintState, RelatedLink, Signed
from schemas.decisions import DecisionInput, LinkRelatedInput, RejectInput
from schemas.markers import field_ref as F
from schemas.similarity import SimilarityResult
from workflows.rules import Logic, Refused


def check_link(state: ComplaintState, request: LinkRelatedInput, now: datetime) -> None:
    if request.related_to == state.complaint_id:
        raise Refused(f"a complaint cannot be related to itself ({F('related_to')})")
    if any(link.complaint_id == request.related_to for link in state.related):
        raise Refused(f"{F('related_to')} {request.related_to} is already linked as related")


def apply_link(state: ComplaintState, request: LinkRelatedInput, signed: Signed) -> str:
    evidence = suggestion_evidence(state.similar, request.related_to)
    state.related.append(
        RelatedLink(
            **dict(signed),
            complaint_id=request.related_to,
            explanation=request.explanation,
            score=evidence["score"] if evidence else None,
            method=evidence["method"] if evidence else None,
            method_version=evidence["method_version"] if evidence else None,
        )
    )
    shown = (
        f" (suggested, score {evidence['score']:.2f})" if evidence and evidence["suggested"] else ""
    )
    return f"Linked as related to {request.related_to}{shown}: {request.explanation}"


def linked_complaint(request: DecisionInput) -> str | None:
    """The other complaint a decision names: a duplicate's original or a related one."""
    if isinstance(request, LinkRelatedInput):
        return request.related_to
    if isinstance(request, RejectInput):
        return request.duplicate_of
    return None


def suggestion_evidence(
    similar: SimilarityResult | None, complaint_id: str
) -> dict[str, Any] | None:
    """What the audit entry says about the lookup (None: this case's run made none)."""
    if similar is None:
        return None
    match = next((s for s in similar.suggestions if s.complaint_id == complaint_id), None)
    return {
        "suggested": match is not None,
        "score": match.score if match else None,
        "text_score": match.text_score if match else None,
        "same_customer_product_lot": match.same_customer_product_lot if match else None,
        "method": similar.method,
        "method_version": similar.method_version,
        "threshold": similar.threshold,
    }


LINK_RELATED = Logic(apply=apply_link, check=check_link)
