"""The Check's arithmetic, without Temporal: which periods are compared, and what "better"
means for a figure that should fall and one that should rise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas.decisions import Actor
from schemas.improvement import (
    Better,
    ImprovementState,
    ImprovementStatus,
    Measure,
    MeasuredPeriod,
    OpenImprovement,
    Verdict,
)
from workflows.rules.improvement import level, periods_to_measure, verdict

OPENED = datetime(2026, 9, 1, tzinfo=UTC)
DONE = datetime(2026, 10, 15, tzinfo=UTC)
MONTH = timedelta(days=30)


def state() -> ImprovementState:
    opened = OpenImprovement(
        improvement_id="IMP-1",
        opened_by=Actor(id="qm.lee"),
        owner="eng.park",
        problem="More complaints",
        measure=Measure(figure="complaints_received", periods=3, period=MONTH),
    )
    return ImprovementState(
        improvement_id="IMP-1",
        status=ImprovementStatus.CHECKING,
        opened=opened,
        opened_at=OPENED,
        actions_done_at=DONE,
    )


def test_the_same_number_of_periods_before_opening_and_after_the_actions():
    periods = periods_to_measure(state(), DONE + 4 * MONTH)
    assert [p.label for p in periods] == [
        "before 1", "before 2", "before 3", "after 1", "after 2", "after 3",
    ]  # fmt: skip
    assert periods[0].start == OPENED - 3 * MONTH and periods[2].end == OPENED
    assert periods[3].start == DONE and periods[5].end == DONE + 3 * MONTH


def test_an_early_check_measures_only_what_has_passed():
    periods = periods_to_measure(state(), DONE + MONTH + timedelta(days=5))
    after = [p for p in periods if p.label.startswith("after")]
    assert [p.label for p in after] == ["after 1", "after 2"]
    assert after[1].end == DONE + MONTH + timedelta(days=5)


def test_the_level_is_the_mean_of_the_periods_with_a_value():
    def p(value: float | None) -> MeasuredPeriod:
        return MeasuredPeriod(label="x", start=OPENED, end=OPENED, value=value)

    assert level([p(4.0), p(None), p(1.0)]) == 2.5
    assert level([p(None)]) is None


def test_better_is_lower_or_higher_as_the_improvement_says():
    assert verdict(4.0, 1.0, Better.LOWER) is Verdict.IMPROVED
    assert verdict(4.0, 4.0, Better.LOWER) is Verdict.NOT_IMPROVED
    assert verdict(3.5, 4.2, Better.HIGHER) is Verdict.IMPROVED
    assert verdict(None, 4.2, Better.HIGHER) is Verdict.INCONCLUSIVE
