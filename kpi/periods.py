"""Periods and groups: what `--from/--to`, `--period` and `--by` mean.

A period is half-open, [start, end), in UTC. Month and quarter are time dimensions: they
split the range into calendar periods. The other dimensions are a complaint's attributes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

ATTRIBUTE_DIMENSIONS = ("product", "category", "channel", "severity", "source", "reportable")
TIME_DIMENSIONS = ("month", "quarter")
DIMENSIONS = ATTRIBUTE_DIMENSIONS + TIME_DIMENSIONS
NONE_LABEL = "(none)"  # a complaint not yet triaged has no category or severity

_PERIOD = re.compile(r"^(\d{4})(?:-(?:Q([1-4])|(\d{2})))?$")


class KpiInputError(ValueError):
    """Bad option or input, said in the user's words."""


@dataclass(frozen=True)
class Period:
    label: str
    start: float
    end: float

    def holds(self, at: float) -> bool:
        return self.start <= at < self.end


def _ts(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def _next_month(day: date, months: int = 1) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def parse_period(text: str) -> tuple[date, date]:
    """`2026`, `2026-Q3` or `2026-07` as [first day, first day after)."""
    match = _PERIOD.match(text.strip())
    if not match:
        raise KpiInputError(f"period {text!r} is not YYYY, YYYY-Qn or YYYY-MM (e.g. 2026-Q3)")
    year, quarter, month = int(match[1]), match[2], match[3]
    if quarter:
        start = date(year, 3 * int(quarter) - 2, 1)
        return start, _next_month(start, 3)
    if month:
        if not 1 <= int(month) <= 12:
            raise KpiInputError(f"period {text!r}: month {month} is not 01 to 12")
        start = date(year, int(month), 1)
        return start, _next_month(start)
    return date(year, 1, 1), date(year + 1, 1, 1)


def parse_day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise KpiInputError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from None


def whole_range(start: date | None, end: date | None, *, until: float) -> Period:
    """--from (inclusive) and --to (inclusive: the whole day); open ends take the log's span."""
    if start and end and end < start:
        raise KpiInputError(f"--to {end} is before --from {start}: the range is inverted")
    begin = _ts(start) if start else float("-inf")
    finish = _ts(end) + 86400.0 if end else until
    label = f"{start or '…'} to {end or '…'}"
    return Period(label, begin, finish)


def check_dimensions(names: list[str]) -> list[str]:
    seen: list[str] = []
    for name in names:
        if name not in DIMENSIONS:
            raise KpiInputError(
                f"--by {name!r} is not a dimension; choose from {', '.join(DIMENSIONS)}"
            )
        if name not in seen:
            seen.append(name)
    if "month" in seen and "quarter" in seen:
        raise KpiInputError("--by month and --by quarter together: choose one time dimension")
    return seen


def split(whole: Period, unit: str | None, *, first: float) -> list[Period]:
    """The calendar months or quarters that `whole` covers (one period without a unit)."""
    if unit is None:
        return [whole]
    begin = whole.start if whole.start != float("-inf") else first
    if begin >= whole.end:
        return []
    day = datetime.fromtimestamp(begin, UTC).date()
    step = 3 if unit == "quarter" else 1
    cursor = date(day.year, (day.month - 1) // step * step + 1, 1)
    periods = []
    while _ts(cursor) < whole.end:
        after = _next_month(cursor, step)
        label = (
            f"{cursor.year}-Q{(cursor.month - 1) // 3 + 1}"
            if unit == "quarter"
            else f"{cursor.year}-{cursor.month:02d}"
        )
        periods.append(Period(label, max(_ts(cursor), whole.start), min(_ts(after), whole.end)))
        cursor = after
    return periods


def months_of(period: Period) -> list[str]:
    """The YYYY-MM months that lie wholly or partly in `period` (for shipments)."""
    if period.start == float("-inf"):
        return []
    return [p.label for p in split(period, "month", first=period.start)]
