"""The exact tests against values worked out by hand or published in tables."""

from __future__ import annotations

import math

import pytest

from trends.exact import binomial_sf, poisson_pmf, poisson_sf, rate_increase_p


@pytest.mark.parametrize(
    ("x", "mean"), [(0, 3.0), (1, 3.0), (3, 0.5), (5, 1.0), (10, 4.0), (2, 2.0), (40, 20.0)]
)
def test_poisson_tail_is_one_minus_the_closed_form_sum(x: int, mean: float) -> None:
    by_hand = 1.0 - sum(math.exp(-mean) * mean**k / math.factorial(k) for k in range(x))
    assert poisson_sf(x, mean) == pytest.approx(by_hand, rel=1e-9, abs=1e-15)


def test_poisson_tail_matches_published_values() -> None:
    # P(X >= 5 | 1) = 0.0036598468 and P(X >= 10 | 4) = 0.0081322428 (tables of the
    # Poisson distribution; also R: ppois(4, 1, lower = FALSE)).
    assert poisson_sf(5, 1.0) == pytest.approx(0.0036598468, rel=1e-8)
    assert poisson_sf(10, 4.0) == pytest.approx(0.0081322428, rel=1e-8)


def test_tiny_upper_tails_keep_their_precision() -> None:
    # P(X >= 30 | 1) is about e^-1 / 30! (the first term dominates): 1 - sum would give 0.
    first = math.exp(-1) / math.factorial(30)
    assert poisson_sf(30, 1.0) == pytest.approx(first * (1 + 1 / 31 + 1 / (31 * 32)), rel=1e-6)
    assert poisson_sf(30, 1.0) > 0


def test_poisson_edge_cases() -> None:
    assert poisson_sf(0, 5.0) == 1.0
    assert poisson_sf(1, 0.0) == 0.0
    assert poisson_pmf(0, 0.0) == 1.0


def test_binomial_tail_by_hand() -> None:
    # P(X >= 2 | n = 3, p = 1/2) = (3 + 1) / 8
    assert binomial_sf(2, 3, 0.5) == pytest.approx(0.5)
    assert binomial_sf(4, 3, 0.5) == 0.0
    assert binomial_sf(0, 3, 0.5) == 1.0


def test_rate_comparison_is_the_conditional_binomial_test() -> None:
    # 5 events this month against 12 in the 12 months before: under equal rates the month
    # holds each of the 17 events with probability 1/13 (R: poisson.test(c(5, 12), c(1, 12),
    # alternative = "greater")$p.value = 0.007596).
    by_hand = sum(math.comb(17, k) * (1 / 13) ** k * (12 / 13) ** (17 - k) for k in range(5, 18))
    assert rate_increase_p(5, 1, 12, 12) == pytest.approx(by_hand, rel=1e-9)
    assert by_hand == pytest.approx(0.007596, abs=5e-7)
    assert rate_increase_p(0, 1, 12, 12) == 1.0
    # A baseline without events is no special case: 3 in a month after 12 empty months.
    assert rate_increase_p(3, 1, 0, 12) == pytest.approx((1 / 13) ** 3)
