"""Exact tests for rare events: Poisson and binomial tail probabilities, no approximation.

A control chart's normal limits mislead when a period holds 0, 1 or 2 events (reportable
complaints, a critical severity). These tests use the distributions themselves: terms are
summed in log space from the side where they shrink, so tiny p-values keep their precision.
"""

from __future__ import annotations

import math


def poisson_pmf(k: int, mean: float) -> float:
    if mean == 0:
        return 1.0 if k == 0 else 0.0
    return math.exp(k * math.log(mean) - mean - math.lgamma(k + 1))


def poisson_sf(x: int, mean: float) -> float:
    """P(X >= x) for X ~ Poisson(mean)."""
    if x <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    if x > mean:  # the upper tail: terms fall from k = x on
        total, k = 0.0, x
        term = poisson_pmf(k, mean)
        while term > 0 and term > total * 1e-17:
            total += term
            k += 1
            term *= mean / k
        return min(1.0, total)
    return max(0.0, 1.0 - sum(poisson_pmf(k, mean) for k in range(x)))


def binomial_sf(x: int, n: int, p: float) -> float:
    """P(X >= x) for X ~ Binomial(n, p)."""
    if x <= 0:
        return 1.0
    if x > n or p <= 0:
        return 0.0
    if p >= 1:
        return 1.0

    def pmf(k: int) -> float:
        log_choose = math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
        return math.exp(log_choose + k * math.log(p) + (n - k) * math.log1p(-p))

    upper = sum(pmf(k) for k in range(x, n + 1))
    return min(1.0, upper)


def rate_increase_p(
    current: int, current_periods: int, baseline: int, baseline_periods: int
) -> float:
    """One-sided exact test that the current rate exceeds the baseline rate (R poisson.test).

    Conditional on the total, the current count is Binomial(total, t1 / (t1 + t0)) when the
    two rates are equal; the p-value is the upper tail at the current count. It needs no
    estimate of the baseline rate, so a baseline with no events is no special case.
    """
    total = current + baseline
    share = current_periods / (current_periods + baseline_periods)
    return binomial_sf(current, total, share)
