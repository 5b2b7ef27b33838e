"""Option types shared by every command group: one type per kind of value.

A date-or-time option (`--due`, `--submitted-at`, `--since`…) accepts an ISO date-time (UTC
when it has no offset), a bare ISO date, or a time from now (`14d`, `+36h`). What a bare
date means depends on the option, so each option says it with `Day`:

- `Day.END`: the end of that day (a due date: "by 2026-12-31").
- `Day.START`: its first instant (a `--since` filter).
- `Day.NEXT`: the first instant of the next day, for exclusive upper bounds (`--until`).
- `Day.PAST`: a fact that already happened on that day (`--submitted-at`): the end of the
  day, but never later than now, so a bare date of today is not "in the future".

A duration option (`--verification-wait`) accepts `30d`, `36h`, `2w`, `90m`, `0d` or ISO
8601 (`P30D`); zero is a duration like any other, never "unset".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum

import click
from pydantic import TypeAdapter, ValidationError

_RELATIVE = re.compile(r"^\+?(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_DURATION = TypeAdapter(timedelta)


class Day(Enum):
    END = "end"
    START = "start"
    NEXT = "next"
    PAST = "past"


class NotAValue(ValueError):
    """The text is not a value of this kind; the message says what would be."""


def parse_duration(text: str) -> timedelta:
    """`30d`, `36h`, `2w`, `90m`, or ISO 8601 (`P30D`)."""
    match = _RELATIVE.match(text.strip().lower())
    if match:
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        value = _DURATION.validate_python(text.strip())
    except ValidationError:
        raise NotAValue(f"{text!r} is not a duration (30d, 36h, 2w, 0d or P30D)") from None
    if value < timedelta(0):
        raise NotAValue(f"{text!r} is negative: give a duration of zero or more")
    return value


def parse_when(text: str, *, day: Day = Day.END, now: datetime | None = None) -> datetime:
    """An aware UTC-or-offset datetime from an ISO date-time, a bare date (see `Day`) or a
    time from now."""
    value = text.strip()
    current = now or datetime.now(UTC)
    if _RELATIVE.match(value.lower()):
        return current + parse_duration(value)
    try:
        bare = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        bare = None
    if bare is not None:
        return _bare_date(bare, day, current)
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise NotAValue(
            f"{text!r} is not a date (2026-12-31), a date-time (2026-12-31T17:00:00Z) "
            "or a time from now (14d)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _bare_date(day_value: date, day: Day, now: datetime) -> datetime:
    start = datetime.combine(day_value, time(0, 0), tzinfo=UTC)
    if day is Day.START:
        return start
    if day is Day.NEXT:
        return start + timedelta(days=1)
    end = datetime.combine(day_value, time(23, 59, 59), tzinfo=UTC)
    if day is Day.PAST:
        return min(end, now)
    return end


class When(click.ParamType):
    """A date, date-time or time from now; `day` says what a bare date means."""

    name = "WHEN"

    def __init__(self, day: Day = Day.END, *, clock: Callable[[], datetime] | None = None):
        self.day = day
        self._clock = clock or (lambda: datetime.now(UTC))

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            return parse_when(str(value), day=self.day, now=self._clock())
        except NotAValue as error:
            self.fail(str(error), param, ctx)


class Duration(click.ParamType):
    name = "DURATION"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        if isinstance(value, timedelta):
            return value
        try:
            return parse_duration(str(value))
        except NotAValue as error:
            self.fail(str(error), param, ctx)


def choice_of(values: type[Enum]) -> click.Choice:
    """A case-insensitive choice of an enum's values; unknown values are refused naming
    the valid ones (click's own wording)."""
    return click.Choice([str(member.value) for member in values], case_sensitive=False)
