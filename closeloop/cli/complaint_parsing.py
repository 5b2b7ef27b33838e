"""Reading dates and durations the way operators type them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import click
from pydantic import TypeAdapter, ValidationError

_RELATIVE = re.compile(r"^\+?(\d+)\s*([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """`30d`, `36h`, `2w`, `90m`, or ISO 8601 (`P30D`)."""
    match = _RELATIVE.match(text.strip().lower())
    if match:
        return timedelta(**{_UNITS[match.group(2)]: int(match.group(1))})
    try:
        return TypeAdapter(timedelta).validate_python(text.strip())
    except ValidationError:
        raise click.BadParameter(f"{text!r} is not a duration (30d, 36h, 2w or P30D)") from None


def parse_when(text: str, *, now: datetime | None = None) -> datetime:
    """An ISO date-time (UTC when no offset), an ISO date (the end of that day, UTC), or a
    time from now (`14d`, `+36h`)."""
    value = text.strip()
    if _RELATIVE.match(value.lower()):
        return (now or datetime.now(UTC)) + parse_duration(value)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date (2026-12-31), a date-time (2026-12-31T17:00:00Z) "
            "or a time from now (14d)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class When(click.ParamType):
    name = "WHEN"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        return value if isinstance(value, datetime) else parse_when(str(value))


class Duration(click.ParamType):
    name = "DURATION"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> timedelta:
        return value if isinstance(value, timedelta) else parse_duration(str(value))
