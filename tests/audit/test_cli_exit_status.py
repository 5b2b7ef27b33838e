"""Every `closeloop audit` command follows the CLI's exit-status table (issue 8, bugs 6 and
11): 0 intact or done, 1 tampered or refused, 2 usage error or cannot check, 3 the database
does not answer; every command answers --help, and bad arguments never end in a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from audit.store import AuditLog
from closeloop.cli import main
from closeloop.cli.audit import audit
from closeloop.cli.exit_status import ExitStatus
from tests.audit.conftest import append_many


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("CLOSELOOP_HOME", str(home))
    monkeypatch.delenv("CLOSELOOP_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLOSELOOP_AUDIT_SIGNING_KEY", raising=False)
    monkeypatch.setenv("CLOSELOOP_AUDIT_PUBLISH_CHECKPOINTS", "false")
    return home


@pytest.fixture
def log(home: Path) -> AuditLog:
    audit_log = AuditLog.from_url(f"sqlite:///{home / 'audit.db'}")
    append_many(audit_log, 5)
    audit_log.dispose()
    return audit_log


def run(*args: str) -> Result:
    # catch_exceptions=True: a traceback would show up as result.exception, not SystemExit.
    return CliRunner().invoke(main, ["audit", *args])


def no_traceback(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output


READING = [["log"], ["timeline", "CMP-1000"], ["verify"], ["proof", "1"], ["consistency", "1"]]


@pytest.mark.parametrize("args", READING)
def test_a_missing_log_cannot_be_checked_exit_2(home: Path, args: list[str]) -> None:
    result = run(*args)
    no_traceback(result)
    assert result.exit_code == ExitStatus.USAGE, result.output
    assert "no audit log at" in result.output


@pytest.mark.parametrize("args", READING)
def test_a_file_that_is_not_a_database_cannot_be_checked_exit_2(
    home: Path, args: list[str]
) -> None:
    (home / "audit.db").write_bytes(b"this is not an SQLite database at all" * 100)
    result = run(*args)
    no_traceback(result)
    assert result.exit_code == ExitStatus.USAGE, result.output
    assert "cannot read the audit log" in result.output


@pytest.mark.parametrize("args", READING)
def test_a_database_server_that_does_not_answer_is_exit_3(
    home: Path, args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    monkeypatch.setenv("CLOSELOOP_DATABASE_URL", "postgresql://auditor:secret@127.0.0.1:9/audit")
    result = run(*args)
    no_traceback(result)
    assert result.exit_code == ExitStatus.UNREACHABLE, result.output
    assert "does not answer" in result.output
    assert "secret" not in result.output  # the password is never shown


def test_checkpoint_and_verify_of_an_intact_log_are_0(log: AuditLog) -> None:
    assert run("checkpoint").exit_code == ExitStatus.OK
    assert run("verify").exit_code == ExitStatus.OK


@pytest.mark.parametrize(
    "out", ["/dev/null", "/dev/null/bundle", "/proc/version", "/proc/self/no/such"]
)
def test_export_to_a_place_that_cannot_hold_a_bundle_says_so(log: AuditLog, out: str) -> None:
    run("checkpoint")
    result = run("export", "--out", out)
    no_traceback(result)
    assert result.exit_code == ExitStatus.USAGE, result.output
    assert "--out" in result.output or out in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["log", "--since", "yesterday"],
        ["log", "--json", "--csv"],
        ["proof", "seven"],
        ["consistency", "3", "2"],
        ["verify", "--public-key", "/nonexistent.pem"],
        ["export"],
        ["no-such-command"],
    ],
)
def test_bad_arguments_are_usage_errors_without_traceback(log: AuditLog, args: list[str]) -> None:
    result = run(*args)
    no_traceback(result)
    assert result.exit_code == ExitStatus.USAGE, result.output


def test_a_public_key_file_that_is_not_a_key_is_a_usage_error(
    log: AuditLog, tmp_path: Path
) -> None:
    bad = tmp_path / "key.pem"
    bad.write_text("-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----\n")
    for args in (["verify", "--public-key", str(bad)], ["export", "--out", str(tmp_path / "b"),
                                                          "--public-key", str(bad)]):  # fmt: skip
        result = run(*args)
        no_traceback(result)
        assert result.exit_code == ExitStatus.USAGE, result.output
        assert "--public-key" in result.output


@pytest.mark.parametrize("name", sorted(audit.commands))
def test_every_audit_command_answers_help(name: str) -> None:
    result = CliRunner().invoke(main, ["audit", name, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: main audit {name}") or "Usage:" in result.output
    assert len(result.output) > 200


def test_the_group_answers_help_with_the_exit_statuses() -> None:
    result = CliRunner().invoke(main, ["audit", "--help"])
    assert result.exit_code == 0
    assert "3 the database" in " ".join(result.output.split())
