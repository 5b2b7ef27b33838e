"""Malformed input is a finding (exit 1, with a message, and JSON with --json) or exit 2 when
it cannot be read at all; never a traceback (issue 11, attack 7). On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import text

from audit.store import AuditLog
from closeloop.cli.exit_status import ExitStatus
from tests.audit.conftest import append_many, audit_cli, bypassing_triggers


@pytest.fixture
def signed(cli_database: str) -> Iterator[AuditLog]:
    log = AuditLog.from_url(cli_database)
    append_many(log, 6)
    assert cli("checkpoint").exit_code == 0
    yield log
    log.dispose()


cli = audit_cli


def no_traceback(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


@pytest.mark.parametrize(
    ("change", "finding"),
    [
        ("timestamp = 'not a time'", "timestamp 'not a time' is not a time"),
        ("root_hash = 'xyz'", "root hash is not 64 hex digits"),
        ("signature = 'not hex'", "signature is not 128 hex digits"),
        ("key_id = 'bad'", "key id is not 16 hex digits"),
        ("tree_size = -5", "tree size -5 is not a count"),
    ],
)
def test_a_malformed_checkpoint_row_is_a_finding(
    signed: AuditLog, change: str, finding: str
) -> None:
    with bypassing_triggers(signed) as connection:
        connection.execute(text(f"UPDATE audit_checkpoints SET {change} WHERE number = 1"))
    shown, as_json = cli("verify"), cli("verify", "--json")
    for result in (shown, as_json):
        no_traceback(result)
        assert result.exit_code == ExitStatus.REFUSED, result.output
    assert finding in shown.output
    report = json.loads(as_json.stdout)
    assert report["ok"] is False
    assert any(finding in problem["message"] for problem in report["problems"]), report


@pytest.mark.parametrize(
    "line",
    [
        '{"number": 1, "signature": "zz"}',
        "{" * 100_000,
        "[" * 100_000 + "]" * 100_000,
        "not json",
    ],
)
def test_a_witness_file_that_is_not_checkpoints_cannot_be_checked(
    signed: AuditLog, tmp_path: Path, line: str
) -> None:
    witness = tmp_path / "witness.jsonl"
    witness.write_text(line + "\n")
    result = cli("verify", "--witness", str(witness))
    no_traceback(result)
    assert result.exit_code == ExitStatus.USAGE, result.output
    assert "--witness" in result.output and "line 1" in result.output
