"""`closeloop audit log` as a table stays readable at any terminal width (issue 8, bug 2):
no column squeezed to nothing, complaint ids never cut, and every entry's reason shown,
also where the workflow recorded the reason inside the entry's data."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from audit.models import NewEntry
from audit.store import AuditLog
from closeloop.cli import main
from tests.audit.conftest import T0, append_many

LONG_ID = "CMP-2026-000123-WEBSHOP-DE"  # longer than any column used to allow


@pytest.fixture
def log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AuditLog]:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("CLOSELOOP_HOME", str(home))
    monkeypatch.delenv("CLOSELOOP_DATABASE_URL", raising=False)
    audit_log = AuditLog.from_url(f"sqlite:///{home / 'audit.db'}")
    append_many(audit_log, 5)
    audit_log.append(
        NewEntry(
            complaint_id=LONG_ID,
            entry_type="complaint.deadline_overridden",
            actor="quality.manager.with.a.long.name@example.com",
            occurred_at=T0,
            reason="",  # the workflow put its reason into the data
            data={"override_wait_reason": "Regulator asked for the report early", "days": 3},
            idempotency_key="long/1",
        ),
        now=T0,
    )
    yield audit_log
    audit_log.dispose()


def table(columns: int, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    monkeypatch.setenv("COLUMNS", str(columns))
    result = CliRunner().invoke(main, ["audit", "log"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output.splitlines()


@pytest.mark.parametrize("columns", [80, 120, 200])
def test_every_line_fits_the_terminal(
    log: AuditLog, columns: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert max(len(line.rstrip()) for line in table(columns, monkeypatch)) <= columns


@pytest.mark.parametrize("columns", [80, 120, 200])
def test_complaint_ids_are_never_cut(
    log: AuditLog, columns: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = table(columns, monkeypatch)
    assert sum(LONG_ID in line for line in lines) == 1
    assert sum("CMP-1000 " in line for line in lines) == 5


@pytest.mark.parametrize("columns", [80, 120, 200])
def test_seq_and_actor_columns_keep_their_width(
    log: AuditLog, columns: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    header, *rows = table(columns, monkeypatch)
    for name in ("seq", "complaint", "type", "actor", "reason"):
        assert name in header.split(), header
    seqs = [row.split()[0] for row in rows if row[:4].strip().isdigit()]
    assert seqs == ["1", "2", "3", "4", "5", "6"]


@pytest.mark.parametrize("columns", [80, 120, 200])
def test_each_entry_shows_its_reason(
    log: AuditLog, columns: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = " ".join(" ".join(line.split()) for line in table(columns, monkeypatch))
    for reason in ("Acknowledged", "possible", "returned", "supplier"):
        assert reason in text
    assert "Regulator" in text  # the reason kept in the data


def test_wide_terminals_add_data_and_hash_beside_the_reason(
    log: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = table(200, monkeypatch)[0].split()
    assert header[-2:] == ["data", "hash"]
    assert "data" not in table(120, monkeypatch)[0].split()
