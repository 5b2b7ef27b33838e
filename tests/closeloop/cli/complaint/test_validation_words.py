"""A decision's input is checked before anything is sent, and the error names the option the
operator typed, never the input model's field (issue 8, "Messages in the user's words")."""

from __future__ import annotations

from click.testing import CliRunner

from closeloop.cli import main
from closeloop.cli.exit_status import ExitStatus

ACTOR = ["--actor", "qe.smith"]


def run(*args: str):
    # `--actor` without `closeloop login`: development mode (see tests/identity).
    env = {"CLOSELOOP_DEV_UNAUTHENTICATED": "true"}
    return CliRunner().invoke(main, ["complaint", *args], prog_name="closeloop", env=env)


def test_a_field_rule_names_the_option():
    result = run(
        *("triage", "C-1", *ACTOR, "--severity", "high", "--category", "x" * 200),
        *("--risk", "r", "--assignee", "a", "--not-reportable", "--justification", "   "),
    )
    assert result.exit_code == ExitStatus.USAGE
    assert "--category: String should have at most 128 characters" in result.output
    assert "--justification: String should have at least 1 character" in result.output
    assert "reportable_justification" not in result.output


def test_rules_between_options_name_the_options():
    result = run("extend", "C-1", *ACTOR, "--due", "14d", "--reason", "late")
    assert result.exit_code == ExitStatus.USAGE
    assert "give exactly one of --action or --stage" in result.output
    result = run("investigate", "C-1", *ACTOR, "--method", "other", "--root-cause", "x")
    assert result.exit_code == ExitStatus.USAGE
    assert "--method other needs --method-detail" in result.output
    result = run("survey", "C-1", *ACTOR)
    assert result.exit_code == ExitStatus.USAGE
    assert "give --csat, --nps or both" in result.output


def test_a_capa_action_part_is_named():
    result = run("plan-capa", "C-1", *ACTOR, "--action", "A 1", "corrective", "o", "14d", "Fix")
    assert result.exit_code == ExitStatus.USAGE
    assert "--action A 1 ID:" in result.output
    result = run("plan-capa", "C-1", *ACTOR, "--action", "A1", "corrective", "o", "someday", "Fix")
    assert result.exit_code == ExitStatus.USAGE
    assert "--action A1 DUE: 'someday' is not a date" in result.output


def test_an_actor_id_is_required_to_be_non_blank():
    result = run("add-info", "C-1", "--actor", "  ", "--information", "x")
    assert result.exit_code == ExitStatus.USAGE
    assert "--actor" in result.output
