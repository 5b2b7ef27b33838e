"""The complaint lifecycle as one table: which decision is allowed in which state.

Derived from the decision specs (`workflows/decision_spec.py`); validators, the
`allowed_decisions` in the query and the README all read from here.

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
from workflows.decision_spec import (
    AFTER_TRIAGE,
    EVERY_STATE,
    OPEN_STATES,
    SPECS,
    TERMINAL_STATES,
)

__all__ = ["AFTER_TRIAGE", "EVERY_STATE", "OPEN_STATES", "RULES", "TERMINAL_STATES", "Rule"]


@dataclass(frozen=True)
class Rule:
    """Where a decision may be made, what it signs, and what the audit log calls it."""

    allowed_in: frozenset[ComplaintStatus]
    meaning: SignatureMeaning
    entry_type: str


RULES: dict[Decision, Rule] = {
    spec.decision: Rule(spec.allowed_in, spec.meaning, spec.entry_type) for spec in SPECS
}


def allowed_in(status: ComplaintStatus) -> list[Decision]:
    """The decisions the table allows in `status`, in lifecycle order."""
    return [decision for decision, rule in RULES.items() if status in rule.allowed_in]


def is_allowed(decision: Decision, status: ComplaintStatus) -> bool:
    return status in RULES[decision].allowed_in
