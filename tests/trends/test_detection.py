"""Known answers for the documented detection delays and false-alarm rates (README, "Trend
signals"): each claim is measured here over many simulated periods, against its theory.

Tolerances are a few standard errors of the simulation, so a wrong limit, a rule that fires
one point early or late, or a statistic that does not reset shows as a failure.
"""

from __future__ import annotations

import math
import statistics

import pytest

from tests.trends.simulate import Noise
from trends.charts import Direction, Limits, RunRule, c_limits, violations
from trends.drift import cusum, ewma
from trends.exact import poisson_pmf, poisson_sf, rate_increase_p

ALL_RULES = list(RunRule)


def first_signal(monitored: list[float], limits: Limits) -> int | None:
    found = violations(monitored, [limits] * len(monitored), ALL_RULES, Direction.UP)
    return min((v.index for v in found), default=None)


def test_a_step_to_double_the_count_is_caught_at_once_on_a_quiet_baseline() -> None:
    limits = c_limits([20.0] * 12)  # centre 20, upper limit 33.4
    assert first_signal([21, 19, 40, 41], limits) == 2


@pytest.mark.parametrize(
    ("after", "within", "share"),
    [
        (30.0, 9, 0.93),  # +50 % (2.2 sigma): README says 9 periods, 96 %
        (35.0, 4, 0.93),  # +75 % (3.4 sigma): 4 periods, 96 %
        (40.0, 2, 0.94),  # +100 % (4.5 sigma): 2 periods, 97 %
    ],
)
@pytest.mark.clause("EU MDR Art. 88", "ISO 13485:2016 8.4")
def test_a_step_change_is_caught_within_the_documented_periods(
    after: float, within: int, share: float
) -> None:
    """Baseline 12 periods of Poisson(20), the default c-chart (3 sigma, all run rules, up)."""
    noise = Noise(seed=int(after))
    trials, caught = 1000, 0
    for _ in range(trials):
        limits = c_limits(noise.counts(20.0, 12))
        at = first_signal(noise.counts(after, 9), limits)
        caught += at is not None and at < within
    assert caught / trials >= share


def test_beyond_the_upper_limit_on_stable_counts_fires_at_the_poisson_tail_rate() -> None:
    centre = 20.0
    limits = c_limits([centre])
    theory = poisson_sf(math.floor(limits.upper) + 1, centre)  # P(X > 33.4) = 0.0027
    n = 60_000
    counts = Noise(seed=1).counts(centre, n)
    found = violations(counts, [limits] * n, [RunRule.BEYOND_LIMITS], Direction.UP)
    measured = len(found) / n
    assert theory == pytest.approx(0.0027, abs=0.0001)
    assert measured == pytest.approx(theory, abs=4 * math.sqrt(theory / n))


def test_nine_on_one_side_on_stable_noise_fires_at_two_in_two_to_the_ninth() -> None:
    n = 120_000
    limits = Limits(0.0, -3.0, 3.0)
    found = violations(Noise(seed=2).normal(n), [limits] * n, [RunRule.NINE_ONE_SIDE])
    theory = 2 * 0.5**9  # the last 9 all above, or all below: 1/256 per point
    assert len(found) / n == pytest.approx(theory, rel=0.25)


def test_six_rising_or_falling_on_stable_noise_fires_at_two_in_six_factorial() -> None:
    n = 120_000
    limits = Limits(0.0, -3.0, 3.0)
    found = violations(Noise(seed=3).normal(n), [limits] * n, [RunRule.SIX_TREND])
    theory = 2 / math.factorial(6)  # one ordering of 6 iid values in 720, either way
    assert len(found) / n == pytest.approx(theory, rel=0.25)


def test_three_sigma_limits_on_normal_noise_fire_at_0_27_percent() -> None:
    n = 120_000
    limits = Limits(0.0, -3.0, 3.0)
    found = violations(Noise(seed=4).normal(n), [limits] * n, [RunRule.BEYOND_LIMITS])
    theory = math.erfc(3 / math.sqrt(2))  # 0.0027
    assert len(found) / n == pytest.approx(theory, abs=4 * math.sqrt(theory / n))


def run_lengths(alarm_indexes: list[int]) -> list[int]:
    """Each alarm restarts the statistic, so the gaps between alarms are run lengths."""
    return [b - a for a, b in zip([-1, *alarm_indexes], alarm_indexes, strict=False)]


def test_ewma_run_lengths_match_lucas_and_saccucci() -> None:
    """lambda 0.25, L 2.998: ARL 500 in control, 11.1 after a 1-sigma shift (Lucas & Saccucci
    1990; Montgomery, Introduction to Statistical Quality Control, table 9.11)."""
    quiet = [a.index for a in ewma(Noise(seed=5).normal(250_000), lam=0.25, width=2.998)]
    assert statistics.fmean(run_lengths(quiet)) == pytest.approx(500, rel=0.15)
    shifted = [a.index for a in ewma(Noise(seed=6).normal(30_000, 1.0), lam=0.25, width=2.998)]
    assert statistics.fmean(run_lengths(shifted)) == pytest.approx(11.1, rel=0.1)


def test_cusum_run_lengths_match_the_published_table() -> None:
    """k 0.5, h 5 (two-sided): ARL 465 in control, 10.4 after a 1-sigma shift (Montgomery,
    table 9.3); Siegmund's approximation gives 469 and 10.3."""
    quiet = [a.index for a in cusum(Noise(seed=7).normal(250_000), k=0.5, h=5.0)]
    assert statistics.fmean(run_lengths(quiet)) == pytest.approx(465, rel=0.15)
    shifted = [a.index for a in cusum(Noise(seed=8).normal(30_000, 1.0), k=0.5, h=5.0)]
    assert statistics.fmean(run_lengths(shifted)) == pytest.approx(10.4, rel=0.1)


def test_ewma_and_cusum_see_a_slow_drift_the_shewhart_limits_miss() -> None:
    """A drift of 0.1 sigma per period: after 15 periods it is 1.5 sigma, inside 3 sigma."""
    drifting = [0.1 * (i + 1) for i in range(15)]
    assert violations(drifting, [Limits(0, -3, 3)] * 15, [RunRule.BEYOND_LIMITS]) == []
    assert ewma(drifting, lam=0.25, width=2.998, direction=Direction.UP)
    assert cusum(drifting, k=0.5, h=5.0, direction=Direction.UP)
    assert cusum(drifting, k=0.5, h=5.0, direction=Direction.DOWN) == []


def test_the_exact_poisson_test_keeps_its_false_alarm_rate_below_alpha() -> None:
    """Rare events (2 a month), 12 baseline months, alpha 0.01: the exact test is at most
    alpha under no change (conservative, counts are discrete), and sees a tripling."""
    noise = Noise(seed=9)
    trials = 6000
    alarms = sum(
        rate_increase_p(noise.poisson(2.0), 1, int(sum(noise.counts(2.0, 12))), 12) < 0.01
        for _ in range(trials)
    )
    assert alarms / trials <= 0.01 + 3 * math.sqrt(0.01 / trials)
    assert alarms > 0  # not a test that can never fire
    tripled = sum(
        rate_increase_p(noise.poisson(6.0), 1, int(sum(noise.counts(2.0, 12))), 12) < 0.01
        for _ in range(1000)
    )
    assert tripled / 1000 > 0.3


def test_with_limits_estimated_from_12_periods_the_false_alarm_rate_is_the_exact_mixture() -> None:
    """The README's caveat: the centre is estimated from the baseline, so the false-alarm rate
    is the average of the Poisson tail over the baseline total T ~ Poisson(12 x 20)."""
    centre, periods = 20.0, 12
    theory = 0.0
    for total in range(100, 420):
        estimate = total / periods
        upper = estimate + 3 * math.sqrt(estimate)
        theory += poisson_pmf(total, centre * periods) * poisson_sf(math.floor(upper) + 1, centre)
    noise = Noise(seed=10)
    trials, watched, alarms = 8000, 9, 0
    for _ in range(trials):
        limits = c_limits(noise.counts(centre, periods))
        monitored = noise.counts(centre, watched)
        found = violations(monitored, [limits] * watched, [RunRule.BEYOND_LIMITS], Direction.UP)
        alarms += len(found)
    measured = alarms / (trials * watched)
    assert theory == pytest.approx(0.0044, abs=0.0001)
    # Points of one trial share their limits: allow for that with a wider tolerance.
    assert measured == pytest.approx(theory, rel=0.2)
