"""Each control-chart run rule alone, on series whose answer is known by construction."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pytest

from trends.charts import (
    Direction,
    Limits,
    RunRule,
    c_limits,
    u_centre,
    u_limits,
    violations,
)

FLAT = Limits(centre=10.0, lower=0.5, upper=19.5)


def fired(
    points: Sequence[float], rule: RunRule, direction: Direction = Direction.BOTH
) -> list[int]:
    return [v.index for v in violations(points, [FLAT] * len(points), [rule], direction)]


def test_c_chart_limits_are_the_mean_plus_minus_three_root_mean() -> None:
    limits = c_limits([16, 25, 19, 20])  # mean 20
    assert limits.centre == 20
    assert limits.upper == pytest.approx(20 + 3 * math.sqrt(20))
    assert limits.lower == pytest.approx(20 - 3 * math.sqrt(20))


def test_c_chart_lower_limit_never_goes_below_zero() -> None:
    assert c_limits([1, 2, 3]).lower == 0.0


def test_u_chart_limits_widen_when_fewer_units_ship() -> None:
    centre = u_centre([10, 30], [2.0, 3.0])  # 40 complaints per 5 million units
    assert centre == 8.0
    few, many = u_limits(centre, 0.5), u_limits(centre, 5.0)
    assert few.upper == pytest.approx(8 + 3 * math.sqrt(8 / 0.5))
    assert few.upper > many.upper > centre


def test_a_point_beyond_the_limits_fires_at_that_point_only() -> None:
    assert fired([10, 11, 20, 9, 10], RunRule.BEYOND_LIMITS) == [2]
    assert fired([10, 0, 10], RunRule.BEYOND_LIMITS) == [1]
    assert fired([10, 19.5, 10], RunRule.BEYOND_LIMITS) == []  # on the limit is inside


def test_nine_in_a_row_on_one_side_fires_at_the_ninth_and_not_at_the_eighth() -> None:
    eight = [11.0] * 8
    assert fired(eight, RunRule.NINE_ONE_SIDE) == []
    assert fired([*eight, 11.0], RunRule.NINE_ONE_SIDE) == [8]
    assert fired([*eight, 11.0, 12.0], RunRule.NINE_ONE_SIDE) == [8, 9]  # the run goes on
    assert fired([9.0] * 9, RunRule.NINE_ONE_SIDE) == [8]  # below the centre too


def test_a_point_on_the_centre_line_breaks_the_run() -> None:
    assert fired([11.0] * 4 + [10.0] + [11.0] * 4, RunRule.NINE_ONE_SIDE) == []


def test_six_rising_fires_at_the_sixth_point_and_a_tie_breaks_it() -> None:
    assert fired([1, 2, 3, 4, 5], RunRule.SIX_TREND) == []
    assert fired([1, 2, 3, 4, 5, 6], RunRule.SIX_TREND) == [5]
    assert fired([6, 5, 4, 3, 2, 1], RunRule.SIX_TREND) == [5]
    assert fired([1, 2, 3, 3, 4, 5, 6], RunRule.SIX_TREND) == []


def test_direction_up_ignores_falls() -> None:
    falling = [15, 14, 13, 12, 11, 9, 0]
    assert fired(falling, RunRule.SIX_TREND, Direction.UP) == []
    assert fired(falling, RunRule.BEYOND_LIMITS, Direction.UP) == []
    assert fired(falling, RunRule.BEYOND_LIMITS, Direction.DOWN) == [6]
