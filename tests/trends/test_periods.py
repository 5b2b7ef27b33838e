"""Only complete periods are judged: months before the run's month, ISO weeks before its week."""

from __future__ import annotations

from datetime import date

from trends.periods import complete_periods, day_of


def test_months_end_before_the_month_of_the_run_and_cross_the_year() -> None:
    months = complete_periods("month", date(2026, 2, 14), 3)
    assert [p.label for p in months] == ["2025-11", "2025-12", "2026-01"]
    assert day_of(months[0].start) == "2025-11-01" and day_of(months[-1].end) == "2026-02-01"


def test_weeks_are_iso_weeks_from_monday_before_the_week_of_the_run() -> None:
    weeks = complete_periods("week", date(2026, 7, 15), 2)  # a Wednesday in week 29
    assert [p.label for p in weeks] == ["2026-W27", "2026-W28"]
    assert day_of(weeks[-1].start) == "2026-07-06" and day_of(weeks[-1].end) == "2026-07-13"
    # The first days of January can belong to the last ISO week of the year before.
    [week] = complete_periods("week", date(2027, 1, 6), 1)
    assert week.label == "2026-W53" and day_of(week.start) == "2026-12-28"


def test_a_run_on_the_first_day_judges_the_month_just_ended() -> None:
    [month] = complete_periods("month", date(2026, 8, 1), 1)
    assert month.label == "2026-07"
