"""`closeloop audit …` as auditors and operators use it: queries, timelines, verification,
checkpoints, proofs, exports, and clear errors."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from audit import note
from audit.store import AuditLog
from audit.tlog_checkpoint import open_checkpoint
from closeloop.cli import main
from tests.audit.conftest import T0, append_many, bypassing_triggers, run_standalone


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh CLOSELOOP_HOME with the default SQLite log; Kafka unreachable on purpose."""
    monkeypatch.setenv("CLOSELOOP_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CLOSELOOP_DATABASE_URL", raising=False)
    monkeypatch.delenv("CLOSELOOP_AUDIT_SIGNING_KEY", raising=False)
    monkeypatch.setenv("CLOSELOOP_AUDIT_PUBLISH_CHECKPOINTS", "false")
    monkeypatch.setenv("COLUMNS", "120")
    return tmp_path / "home"


@pytest.fixture
def log(env: Path) -> Iterator[AuditLog]:
    env.mkdir(parents=True, exist_ok=True)
    audit_log = AuditLog.from_url(f"sqlite:///{env / 'audit.db'}")
    append_many(audit_log, 15)  # complaints CMP-1000, CMP-1001, CMP-1002
    yield audit_log
    audit_log.dispose()


def cli(*args: str) -> Result:
    return CliRunner().invoke(main, ["audit", *args], catch_exceptions=False)


def _seqs(result: Result) -> list[int]:
    return [json.loads(line)["seq"] for line in result.output.splitlines()]


# --- reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "seqs"),
    [
        (["--complaint", "CMP-1001"], [6, 7, 8, 9, 10]),
        (["--type", "capa.opened"], [5, 10, 15]),
        (["--actor", "alice@example.com"], [3, 8, 13]),
        (["--text", "nürnberg"], [4, 9, 14]),  # in the data, not just the reason
        (["--text", "100%"], []),  # % is a literal, not a wildcard
        (["--since", (T0 + timedelta(minutes=70)).isoformat()], [11, 12, 13, 14, 15]),
        (["--until", "2026-03-02T08:44:00+00:00"], [1, 2]),
        (["--until", "2026-03-02"], list(range(1, 16))),  # a bare date includes the whole day
        (["--since", "2026-03-03"], []),
        (["--complaint", "CMP-1002", "--type", "complaint.triaged"], [13]),
    ],
)
@pytest.mark.clause("ISO 10002:2018 8.1")
def test_log_filters(log: AuditLog, options: list[str], seqs: list[int]) -> None:
    result = cli("log", *options, "--json")
    assert result.exit_code == 0, result.output
    assert _seqs(result) == seqs


@pytest.mark.clause("21 CFR 11.10(b)")
def test_log_json_lines_are_the_entries_as_hashed(log: AuditLog) -> None:
    first = json.loads(cli("log", "--json").output.splitlines()[0])
    expected = log.entries()[0]
    assert first == expected.hashed_fields() | {"entry_hash": expected.entry_hash}


@pytest.mark.clause("21 CFR 11.10(b)")
def test_log_csv_for_spreadsheets(log: AuditLog) -> None:
    rows = list(csv.DictReader(io.StringIO(cli("log", "--csv", "--complaint", "CMP-1000").output)))
    assert [row["seq"] for row in rows] == ["1", "2", "3", "4", "5"]
    assert json.loads(rows[2]["data"])["tags"] == ["safety", "lot-42"]


def test_log_table_is_readable_in_a_pipe(log: AuditLog) -> None:
    output = cli("log", "--complaint", "CMP-1000").output
    assert "complaint.acknowledged" in output  # not cut into pieces
    assert "Acknowledged within 24 h" in output
    assert "5 entries matching complaint_id=CMP-1000" in output
    assert max(len(line) for line in output.splitlines()) <= 120


@pytest.mark.clause("ISO 9001:2015 10.2.2", "ISO 10002:2018 7.3")
def test_timeline_tells_a_complaints_story(log: AuditLog) -> None:
    result = cli("timeline", "CMP-1001")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].startswith("Complaint CMP-1001: 5 audit entries, 2026-03-02 09:05:00 to")
    assert "2026-03-02 09:12:00 (+7 min 0 s)  complaint.acknowledged  by workflow:complaint" in (
        result.output
    )
    assert "    lab: QA-Lab Nürnberg" in result.output


def test_no_entries_and_no_log_are_said_plainly(env: Path, log: AuditLog, tmp_path: Path) -> None:
    assert (
        cli("log", "--complaint", "NOPE").output == "no audit entries matching complaint_id=NOPE\n"
    )
    unknown = CliRunner().invoke(main, ["audit", "timeline", "NOPE"])
    assert unknown.exit_code == 1 and "no audit entries for complaint NOPE" in unknown.output


def test_a_missing_database_is_not_created_by_reading(
    env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "audit.db"
    monkeypatch.setenv("CLOSELOOP_DATABASE_URL", f"sqlite:///{missing}")
    result = CliRunner().invoke(main, ["audit", "log"])
    assert result.exit_code == 2  # cannot check, not "tampered"
    assert f"no audit log at {missing}" in result.output
    assert not missing.exists()


# --- integrity ----------------------------------------------------------------------------------


def test_checkpoint_then_verify_then_prove(log: AuditLog, env: Path) -> None:
    unsigned = cli("verify")
    signed = cli("checkpoint")
    again = cli("checkpoint")
    verified = cli("verify")
    proof = cli("proof", "7")
    consistency = cli("consistency", "4", "--json")

    assert unsigned.exit_code == 0 and "warning: no checkpoints" in unsigned.output
    assert signed.stdout.startswith("signed checkpoint 1 (size 15): root ")
    assert (env / "keys" / "audit-signing-key.pem").exists()
    assert "no new entries since checkpoint 1 (size 15); nothing to sign" in again.stdout
    assert verified.exit_code == 0
    assert verified.output.splitlines()[-1].startswith(
        "OK: 15 entries intact; 1 checkpoint valid, latest checkpoint 1 (size 15); root "
    )
    assert proof.output.startswith("entry 7 is included in checkpoint 1 (size 15)")
    assert "(valid)" in proof.output and "audit path, leaf to root (4 hashes):" in proof.output
    assert json.loads(consistency.output)["new_checkpoint"]["number"] == 1


def test_verify_exits_1_and_names_the_entry_when_tampered(log: AuditLog) -> None:
    cli("checkpoint")
    with bypassing_triggers(log) as connection:
        connection.execute(text("UPDATE audit_entries SET actor = 'mallory' WHERE seq = 9"))
    result = CliRunner().invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith("FAILED: entry 9: hash mismatch (stored ")
    as_json = CliRunner().invoke(main, ["audit", "verify", "--json"])
    assert as_json.exit_code == 1 and json.loads(as_json.output)["first_bad_seq"] == 9
    for jobs in ("2", "0"):  # worker processes; 0 is one per CPU
        parallel = CliRunner().invoke(main, ["audit", "verify", "--json", "--jobs", jobs])
        assert parallel.exit_code == 1
        assert json.loads(parallel.output)["problems"] == json.loads(as_json.output)["problems"]


def test_verify_exits_2_without_a_key_to_check_signatures(
    log: AuditLog, env: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cli("checkpoint")
    monkeypatch.setenv("CLOSELOOP_HOME", str(tmp_path / "auditor-home"))  # no key here
    monkeypatch.setenv("CLOSELOOP_DATABASE_URL", f"sqlite:///{env / 'audit.db'}")
    result = CliRunner().invoke(main, ["audit", "verify"])
    assert result.exit_code == 2
    assert "no public key" in result.output and "--public-key" in result.output

    key_file = tmp_path / "key.pem"
    monkeypatch.setenv("CLOSELOOP_HOME", str(env))
    key_file.write_text(cli("public-key").stdout)
    monkeypatch.setenv("CLOSELOOP_HOME", str(tmp_path / "auditor-home"))
    assert (
        CliRunner().invoke(main, ["audit", "verify", "--public-key", str(key_file)]).exit_code == 0
    )


def test_verify_checks_the_log_against_checkpoints_a_witness_kept(
    log: AuditLog, tmp_path: Path
) -> None:
    cli("checkpoint")
    cli("export", "--out", str(tmp_path / "earlier"))  # the auditor's earlier export
    with bypassing_triggers(log) as connection:  # the tail and its checkpoint disappear
        connection.execute(text("DELETE FROM audit_entries WHERE seq > 12"))
        connection.execute(text("DELETE FROM audit_checkpoint_notes"))
        connection.execute(text("DELETE FROM audit_checkpoints"))
    # On the signer's machine its own memory of checkpoint 1 catches it (issue 11, attack 2);
    # elsewhere the database alone looks fine, and the witness's copy is what catches it.
    assert CliRunner().invoke(main, ["audit", "verify"]).exit_code == 1

    witness = str(tmp_path / "earlier" / "checkpoints.jsonl")
    result = CliRunner().invoke(main, ["audit", "verify", "--witness", witness])
    assert result.exit_code == 1
    assert "FAILED: entries 13..15 missing: witnessed checkpoint 1 (size 15)" in result.output


def test_proof_errors_say_what_to_do(log: AuditLog) -> None:
    no_checkpoint = CliRunner().invoke(main, ["audit", "proof", "3"])
    cli("checkpoint")
    beyond = CliRunner().invoke(main, ["audit", "proof", "99"])
    assert no_checkpoint.exit_code == 2  # nothing to prove against: cannot check
    assert "no checkpoint yet" in no_checkpoint.output
    assert "closeloop audit checkpoint" in no_checkpoint.output
    assert "there is no entry 99: the log has entries 1..15" in beyond.output


def test_public_key_before_any_checkpoint_says_how_to_get_one(log: AuditLog) -> None:
    result = CliRunner().invoke(main, ["audit", "public-key"])
    assert result.exit_code == 2 and "closeloop audit checkpoint" in result.output


def test_public_key_vkey_verifies_the_checkpoint_notes_under_the_configured_origin(
    log: AuditLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CLOSELOOP_AUDIT_ORIGIN", "quality.example.com/complaints")
    cli("checkpoint")
    verifier = note.Verifier.from_vkey(cli("public-key", "--vkey").stdout)
    assert verifier.name == "quality.example.com/complaints"
    latest = log.latest_checkpoint()
    assert latest is not None and latest.note is not None
    head, _ = open_checkpoint(latest.note, verifier)
    assert head.tree_size == latest.tree_size


def test_export_writes_a_bundle_that_verifies_itself(log: AuditLog, tmp_path: Path) -> None:
    cli("checkpoint")
    out = tmp_path / "bundle"
    result = cli("export", "--out", str(out), "--type", "complaint.triaged")
    assert result.exit_code == 0
    assert "exported 3 of 15 entries" in result.output
    assert run_standalone(out).returncode == 0
    again = CliRunner().invoke(main, ["audit", "export", "--out", str(out)])
    assert again.exit_code == 2 and "is not empty" in again.output


def test_setup_reports_what_it_created(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env.mkdir(parents=True)
    first = cli("setup")
    second = cli("setup")
    assert "created table audit_entries" in first.output
    assert "created trigger audit_entries_no_update" in first.output
    assert second.output == "already set up: tables, triggers and roles are in place\n"


def test_every_command_has_help() -> None:
    commands = ["log", "timeline", "verify", "checkpoint", "proof", "consistency", "export",
                "public-key", "setup"]  # fmt: skip
    for command in commands:
        result = cli(command, "--help")
        assert result.exit_code == 0 and len(result.output) > 200, command
