"""Each improvement decision defined once, as `workflows/decision_spec.py` does for complaints:
its input, where the cycle allows it, what its signature means, what the audit log calls it,
its rules, whether it measures the figure first, and what the CAPA children hear after it.

The lifecycle table, the allowed decisions and the workflow's Update handlers with their
validators are all derived from `SPECS`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.complaint_state import SignatureMeaning
from schemas.decisions import DecisionInput
from schemas.improvement import (
    MEANINGS,
    CheckInput,
    CompleteImprovementActionInput,
    GoRoundAgainInput,
    ImprovementDecision,
    ImprovementState,
    ImprovementStatus,
    PlanInput,
    StandardiseInput,
)
from workflows.capa_children import CapaChildren
from workflows.rules import improvement as rules

S = ImprovementStatus
Dn = ImprovementDecision

AfterHook = Callable[[CapaChildren, ImprovementState, Any], Awaitable[None]]


async def start_actions(
    children: CapaChildren, state: ImprovementState, request: PlanInput
) -> None:
    """Do: each planned action runs as a CAPA child workflow, as a complaint's does."""
    planned = [state.action(plan.id) for plan in request.actions]
    await children.start_actions(state.improvement_id, [a for a in planned if a is not None])


async def action_completed(
    children: CapaChildren, state: ImprovementState, request: CompleteImprovementActionInput
) -> None:
    action = state.action(request.action_id)
    assert action is not None
    await children.tell_completed(action)


@dataclass(frozen=True)
class ImprovementSpec:
    decision: ImprovementDecision
    input_type: type[DecisionInput]
    allowed_in: frozenset[ImprovementStatus]
    entry_type: str
    logic: rules.ImprovementLogic[Any]
    measures: bool = False  # the figure is measured (an activity) before the rules apply
    after: AfterHook | None = None

    @property
    def meaning(self) -> SignatureMeaning:
        return MEANINGS[self.decision]


# In cycle order: `allowed_decisions` lists them in this order.
SPECS: tuple[ImprovementSpec, ...] = (
    ImprovementSpec(
        Dn.PLAN,
        PlanInput,
        frozenset({S.PLANNING}),
        "improvement.planned",
        rules.PLAN,
        after=start_actions,
    ),
    ImprovementSpec(
        Dn.COMPLETE_ACTION,
        CompleteImprovementActionInput,
        frozenset({S.DOING}),
        "improvement.action_completed",
        rules.COMPLETE_ACTION,
        after=action_completed,
    ),
    ImprovementSpec(
        Dn.CHECK,
        CheckInput,
        frozenset({S.CHECKING}),
        "improvement.checked",
        rules.CHECK,
        measures=True,
    ),
    ImprovementSpec(
        Dn.STANDARDISE,
        StandardiseInput,
        frozenset({S.ACTING}),
        "improvement.standardised",
        rules.STANDARDISE,
    ),
    ImprovementSpec(
        Dn.GO_ROUND_AGAIN,
        GoRoundAgainInput,
        frozenset({S.ACTING}),
        "improvement.round_again",
        rules.GO_ROUND_AGAIN,
    ),
)

SPEC: dict[ImprovementDecision, ImprovementSpec] = {spec.decision: spec for spec in SPECS}


def allowed_decisions(state: ImprovementState, now: datetime) -> list[ImprovementDecision]:
    """What may be decided now: allowed in this status and ready by the rules."""
    return [
        spec.decision
        for spec in SPECS
        if state.status in spec.allowed_in and spec.logic.ready(state, now) is None
    ]
