"""The complaint lifecycle as one table: which decision is allowed in which state.

Validators, the `allowed_decisions` in the query and the README all read from here.

    received -> acknowledged -> triaged -> investigating -> capa_planned -> capa_in_progress
             -> verifying -> closed
    received | acknowledged | triaged | investigating -> rejected
    verifying (not effective, or recurrence) | closed (recurrence) -> reopened -> investigating
    investigating -> closed   (investigation concluded with no CAPA needed, or declined)
"""

from __future__ import annotations

from dataclasses import dataclass

from schemas.complaint_state import ComplaintStatus, SignatureMeaning
from schemas.decisions import Decision

S = ComplaintStatus

EVERY_STATE = frozenset(ComplaintStatus)
OPEN_STATES = EVERY_STATE - {S.CLOSED, S.REJECTED}
AFTER_TRIAGE = EVERY_STATE - {S.RECEIVED, S.ACKNOWLEDGED, S.REJECTED}
TERMINAL_STATES = frozenset({S.CLOSED, S.REJECTED})


@dataclass(frozen=True)
class Rule:
    """Where a decision may be made, what it signs, and what the audit log calls it."""

    allowed_in: frozenset[ComplaintStatus]
    meaning: SignatureMeaning
    entry_type: str


RULES: dict[Decision, Rule] = {
    Decision.ACKNOWLEDGE: Rule(
        frozenset({S.RECEIVED}), SignatureMeaning.REVIEWED, "complaint.acknowledged"
    ),
    Decision.TRIAGE: Rule(
        frozenset({S.ACKNOWLEDGED, S.TRIAGED, S.INVESTIGATING, S.REOPENED}),
        SignatureMeaning.REVIEWED,
        "complaint.triaged",
    ),
    Decision.INVESTIGATE: Rule(
        frozenset({S.TRIAGED, S.INVESTIGATING, S.REOPENED}),
        SignatureMeaning.REVIEWED,
        "complaint.investigated",
    ),
    Decision.DECLINE_INVESTIGATION: Rule(
        frozenset({S.TRIAGED, S.INVESTIGATING, S.REOPENED}),
        SignatureMeaning.APPROVED,
        "complaint.investigation_declined",
    ),
    Decision.PLAN_CAPA: Rule(
        frozenset({S.INVESTIGATING, S.CAPA_PLANNED, S.CAPA_IN_PROGRESS}),
        SignatureMeaning.APPROVED,
        "capa.planned",
    ),
    Decision.RECORD_ACTION_PROGRESS: Rule(
        frozenset({S.CAPA_PLANNED, S.CAPA_IN_PROGRESS}),
        SignatureMeaning.RECORDED,
        "capa.action_progress",
    ),
    Decision.COMPLETE_ACTION: Rule(
        frozenset({S.CAPA_PLANNED, S.CAPA_IN_PROGRESS}),
        SignatureMeaning.APPROVED,
        "capa.action_completed",
    ),
    Decision.EXTEND: Rule(OPEN_STATES, SignatureMeaning.APPROVED, "complaint.due_date_moved"),
    Decision.VERIFY: Rule(
        frozenset({S.VERIFYING}), SignatureMeaning.VERIFIED, "complaint.verified"
    ),
    Decision.CLOSE: Rule(
        frozenset({S.INVESTIGATING, S.VERIFYING}), SignatureMeaning.CLOSED, "complaint.closed"
    ),
    Decision.REJECT: Rule(
        frozenset({S.RECEIVED, S.ACKNOWLEDGED, S.TRIAGED, S.INVESTIGATING}),
        SignatureMeaning.APPROVED,
        "complaint.rejected",
    ),
    Decision.REOPEN: Rule(
        frozenset({S.VERIFYING, S.CLOSED}), SignatureMeaning.APPROVED, "complaint.reopened"
    ),
    Decision.ADD_INFORMATION: Rule(
        EVERY_STATE, SignatureMeaning.RECORDED, "complaint.information_added"
    ),
    Decision.RECORD_SURVEY: Rule(EVERY_STATE, SignatureMeaning.RECORDED, "complaint.survey"),
    Decision.RECORD_REGULATORY_REPORT: Rule(
        AFTER_TRIAGE, SignatureMeaning.RECORDED, "complaint.regulator_reported"
    ),
}


def allowed_in(status: ComplaintStatus) -> list[Decision]:
    """The decisions the table allows in `status`, in lifecycle order."""
    return [decision for decision, rule in RULES.items() if status in rule.allowed_in]


def is_allowed(decision: Decision, status: ComplaintStatus) -> bool:
    return status in RULES[decision].allowed_in
