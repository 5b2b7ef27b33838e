"""EWMA and CUSUM: slow drifts that a Shewhart chart sees late or not at all.

Both work on standardised values z = (x - target) / sigma, so one set of parameters (and
one table of run lengths) serves counts, CSAT and NPS alike. Each returns the monitored
indexes where its statistic crosses the decision limit, and restarts from the target after
a signal, so a lasting shift is reported once per crossing, not at every later period.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from trends.charts import Direction


@dataclass(frozen=True)
class DriftAlarm:
    index: int
    up: bool
    statistic: float  # EWMA value (in sigma units) or CUSUM sum at the alarm
    limit: float


def ewma(
    z: Sequence[float], *, lam: float, width: float, direction: Direction = Direction.BOTH
) -> list[DriftAlarm]:
    """EWMA with asymptotic limits +- width x sqrt(lam / (2 - lam)) (Lucas & Saccucci 1990)."""
    limit = width * math.sqrt(lam / (2.0 - lam))
    alarms: list[DriftAlarm] = []
    value = 0.0
    for i, x in enumerate(z):
        value = lam * x + (1.0 - lam) * value
        if value > limit and direction.allows(True):
            alarms.append(DriftAlarm(i, True, value, limit))
            value = 0.0
        elif value < -limit and direction.allows(False):
            alarms.append(DriftAlarm(i, False, value, limit))
            value = 0.0
    return alarms


def cusum(
    z: Sequence[float], *, k: float, h: float, direction: Direction = Direction.BOTH
) -> list[DriftAlarm]:
    """Tabular CUSUM (Page 1954): S+ = max(0, S+ + z - k), S- = max(0, S- - z - k); alarm > h."""
    alarms: list[DriftAlarm] = []
    high = low = 0.0
    for i, x in enumerate(z):
        high = max(0.0, high + x - k) if direction.allows(True) else 0.0
        low = max(0.0, low - x - k) if direction.allows(False) else 0.0
        if high > h:
            alarms.append(DriftAlarm(i, True, high, h))
            high = low = 0.0
        elif low > h:
            alarms.append(DriftAlarm(i, False, low, h))
            high = low = 0.0
    return alarms


def standardise(values: Sequence[float], target: float, sigma: float) -> list[float]:
    return [(x - target) / sigma for x in values]
