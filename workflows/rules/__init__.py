"""The business rules of each decision: when it is possible, what it checks, what it changes.

One `Logic` per decision, in modules by stage of the process. Each is a set of pure
functions of the complaint's state, the decision's input and the workflow time, so the
workflow stays a thin, deterministic shell and the rules are testable without Temporal.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from schemas.complaint_state import ComplaintState, Signed
from schemas.decisions import DecisionInput
from schemas.outcomes import RefusalCode, render

I = TypeVar("I", bound=DecisionInput)  # noqa: E741


class Refused(Exception):
    """A decision the rules refuse. `template` is for the person who made it, with field and
    decision names as `schemas.markers` markers; `str()` renders it with the plain names."""

    def __init__(self, template: str, code: RefusalCode = RefusalCode.INVALID) -> None:
        super().__init__(render(template, field=str, decision=str))
        self.template = template
        self.code = code


def always_ready(state: ComplaintState, now: datetime) -> str | None:
    return None


def nothing_to_check(state: ComplaintState, request: Any, now: datetime) -> None:
    return None


@dataclass(frozen=True)
class Logic(Generic[I]):
    """`ready`: what the state must hold first (None when ready, else what is missing).
    `check`: input-specific rules, raising `Refused`. `apply`: change the state, return a
    one-line description for the history."""

    apply: Callable[[ComplaintState, I, Signed], str]
    check: Callable[[ComplaintState, I, datetime], None] = nothing_to_check
    ready: Callable[[ComplaintState, datetime], str | None] = always_ready
