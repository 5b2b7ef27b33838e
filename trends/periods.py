"""The periods a run looks at: whole calendar months or ISO weeks (Monday to Monday), UTC.

Only complete periods count: a run on 2026-08-14 evaluates up to July (or the week before
the current one), so a half-finished period never looks like a drop.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from kpi.periods import Period


def _ts(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def _month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def complete_periods(unit: str, as_of: date, count: int) -> list[Period]:
    """The `count` complete periods before `as_of`'s own period, oldest first."""
    periods = []
    for back in range(count, 0, -1):
        if unit == "month":
            start, end = _month_start(as_of, back), _month_start(as_of, back - 1)
            label = f"{start.year}-{start.month:02d}"
        else:
            monday = as_of - timedelta(days=as_of.weekday())
            start, end = monday - timedelta(weeks=back), monday - timedelta(weeks=back - 1)
            year, week, _ = start.isocalendar()
            label = f"{year}-W{week:02d}"
        periods.append(Period(label, _ts(start), _ts(end)))
    return periods


def day_of(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).date().isoformat()
