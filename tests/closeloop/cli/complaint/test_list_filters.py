"""`complaint list` refuses a filter value no complaint can have, instead of "no complaints
match", and offers every keyword the search attributes hold."""

from __future__ import annotations

from click.testing import CliRunner

from closeloop.cli import main
from closeloop.cli.exit_status import ExitStatus


def run(*args: str):
    return CliRunner().invoke(main, ["complaint", "list", *args], prog_name="closeloop")


def test_an_unknown_severity_is_refused_naming_the_valid_ones():
    result = run("--severity", "urgent")
    assert result.exit_code == ExitStatus.USAGE
    assert "'urgent' is not one of 'low', 'medium', 'high', 'critical'" in result.output
    assert "no complaints match" not in result.output


def test_an_unknown_status_is_refused():
    result = run("--status", "open")
    assert result.exit_code == ExitStatus.USAGE
    assert "'investigating'" in result.output


def test_the_search_attribute_filters_are_offered():
    result = run("--help")
    for option in ("--category", "--product", "--customer", "--assignee", "--severity"):
        assert option in result.output
