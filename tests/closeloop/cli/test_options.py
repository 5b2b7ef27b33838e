"""One option type per kind of value: dates-or-times and durations, as operators type them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
import pytest
from click.testing import CliRunner

from closeloop.cli.options import Day, Duration, NotAValue, When, parse_duration, parse_when

NOW = datetime(2026, 12, 2, 15, 30, tzinfo=UTC)


def test_times_from_now_and_iso_date_times():
    assert parse_when("14d", now=NOW) == NOW + timedelta(days=14)
    assert parse_when("+36h", now=NOW) == NOW + timedelta(hours=36)
    assert parse_when("2026-12-31T17:00:00+01:00") == datetime(2026, 12, 31, 16, 0, tzinfo=UTC)
    assert parse_when("2026-12-31T17:00") == datetime(2026, 12, 31, 17, 0, tzinfo=UTC)
    assert parse_when("2026-12-31T17:00:00Z") == datetime(2026, 12, 31, 17, 0, tzinfo=UTC)


def test_a_bare_date_means_what_the_option_says():
    assert parse_when("2026-12-31", day=Day.END) == datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert parse_when("2026-12-31", day=Day.START) == datetime(2026, 12, 31, tzinfo=UTC)
    assert parse_when("2026-12-31", day=Day.NEXT) == datetime(2027, 1, 1, tzinfo=UTC)


def test_a_bare_date_of_today_for_a_past_fact_is_not_in_the_future():
    today = parse_when("2026-12-02", day=Day.PAST, now=NOW)
    assert today == NOW
    earlier = parse_when("2026-11-30", day=Day.PAST, now=NOW)
    assert earlier == datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC)


def test_durations_zero_included():
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_duration("2w") == timedelta(weeks=2)
    assert parse_duration("90m") == timedelta(minutes=90)
    assert parse_duration("P10D") == timedelta(days=10)
    assert parse_duration("0d") == timedelta(0)
    assert parse_duration("PT0S") == timedelta(0)


@pytest.mark.parametrize("text", ["soon", "2026-13-01", "31/12/2026", ""])
def test_not_a_date(text):
    with pytest.raises(NotAValue, match="is not a date"):
        parse_when(text)


@pytest.mark.parametrize("text", ["a while", "-3d", "P-1D"])
def test_not_a_duration(text):
    with pytest.raises(NotAValue):
        parse_duration(text)


def test_a_bad_value_is_a_usage_error_naming_the_option():
    @click.command()
    @click.option("--due", type=When())
    @click.option("--wait", type=Duration())
    def command(due: datetime | None, wait: timedelta | None) -> None:
        click.echo(f"{due} {wait}")

    result = CliRunner().invoke(command, ["--due", "next tuesday"])
    assert result.exit_code == 2
    assert "Invalid value for '--due'" in result.output
    assert "'next tuesday' is not a date" in result.output
    assert "Traceback" not in result.output
    result = CliRunner().invoke(command, ["--wait", "forever"])
    assert result.exit_code == 2
    assert "Invalid value for '--wait'" in result.output
    result = CliRunner().invoke(command, ["--wait", "0d"])
    assert result.exit_code == 0
    assert result.output.strip() == "None 0:00:00"
