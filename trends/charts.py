"""Shewhart control charts for counts (c-chart) and rates (u-chart), and their run rules.

Pure functions over plain numbers, so each rule is tested alone on series with known answers.
The limits come from a baseline (phase I) and are applied to the monitored periods (phase
II); a point on the centre line breaks a run, as in the Western Electric handbook.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class Direction(StrEnum):
    UP = "up"
    DOWN = "down"
    BOTH = "both"

    def allows(self, up: bool) -> bool:
        return self is Direction.BOTH or (self is Direction.UP) == up


class RunRule(StrEnum):
    BEYOND_LIMITS = "beyond_limits"  # one point outside centre +- sigma x spread
    NINE_ONE_SIDE = "nine_one_side"  # 9 points in a row on one side of the centre line
    SIX_TREND = "six_trend"  # 6 points in a row steadily rising or falling


NINE = 9
SIX = 6


@dataclass(frozen=True)
class Limits:
    centre: float
    lower: float
    upper: float


@dataclass(frozen=True)
class Violation:
    """A run rule broken at `index` (of the monitored points), in one direction."""

    rule: RunRule
    index: int
    up: bool


def c_limits(baseline: Sequence[float], sigma: float = 3.0) -> Limits:
    """Centre = mean count of the baseline; limits centre +- sigma x sqrt(centre) (Poisson)."""
    if not baseline:
        raise ValueError("a c-chart needs at least one baseline period")
    centre = sum(baseline) / len(baseline)
    spread = sigma * math.sqrt(centre)
    return Limits(centre, max(0.0, centre - spread), centre + spread)


def u_centre(counts: Sequence[float], exposures: Sequence[float]) -> float:
    """Pooled rate of the baseline: total count / total exposure."""
    total = sum(exposures)
    if total <= 0:
        raise ValueError("a u-chart needs baseline periods with exposure (units shipped)")
    return sum(counts) / total


def u_limits(centre: float, exposure: float, sigma: float = 3.0) -> Limits:
    """Limits for one period: centre +- sigma x sqrt(centre / exposure); they vary with n."""
    spread = sigma * math.sqrt(centre / exposure)
    return Limits(centre, max(0.0, centre - spread), centre + spread)


def violations(
    points: Sequence[float],
    limits: Sequence[Limits],
    rules: Sequence[RunRule],
    direction: Direction = Direction.BOTH,
) -> list[Violation]:
    """Every (rule, point) where a rule is broken, evaluated over the monitored points only.

    `limits` has one entry per point (a c-chart repeats the same limits). A run rule fires
    at the point that completes the run, and again at each later point that extends it.
    """
    found: list[Violation] = []
    for i, (x, lim) in enumerate(zip(points, limits, strict=True)):
        if RunRule.BEYOND_LIMITS in rules:
            if x > lim.upper and direction.allows(True):
                found.append(Violation(RunRule.BEYOND_LIMITS, i, True))
            elif x < lim.lower and direction.allows(False):
                found.append(Violation(RunRule.BEYOND_LIMITS, i, False))
        if RunRule.NINE_ONE_SIDE in rules and i >= NINE - 1:
            side = _one_side(points[i - NINE + 1 : i + 1], limits[i - NINE + 1 : i + 1])
            if side is not None and direction.allows(side):
                found.append(Violation(RunRule.NINE_ONE_SIDE, i, side))
        if RunRule.SIX_TREND in rules and i >= SIX - 1:
            trend = _trend(points[i - SIX + 1 : i + 1])
            if trend is not None and direction.allows(trend):
                found.append(Violation(RunRule.SIX_TREND, i, trend))
    return found


def _one_side(run: Sequence[float], limits: Sequence[Limits]) -> bool | None:
    if all(x > lim.centre for x, lim in zip(run, limits, strict=True)):
        return True
    if all(x < lim.centre for x, lim in zip(run, limits, strict=True)):
        return False
    return None


def _trend(run: Sequence[float]) -> bool | None:
    """Strictly rising (True) or falling (False) across the run; a tie breaks it."""
    steps = [b - a for a, b in itertools.pairwise(run)]
    if all(s > 0 for s in steps):
        return True
    if all(s < 0 for s in steps):
        return False
    return None
