"""The incident procedure (issue 11, attack 4): one bad row is reported for ever, but once
the log's key holder has acknowledged it, signing goes on past it and later tampering is
still caught. An acknowledgment not signed by the log's key counts for nothing.
On SQLite and on PostgreSQL, through the CLI, `audit verify` and the bundle's verify.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from audit import incidents
from audit.checkpointer import Checkpointer, CheckpointRefused
from audit.export import export_bundle
from audit.keys import default_key_path
from audit.signing import load_or_create_signing_key, public_key_pem
from audit.store import AuditLog, EntryFilter
from closeloop.cli import main
from tests.audit.conftest import append_many, bypassing_triggers, verify
from tests.audit.test_noncanonical import FORGED, _store_as_if_canonical


def spoil_data(log: AuditLog, seq: int, data_text: str = "not JSON at all") -> None:
    """What a writer with the database could do: data that is not what was hashed."""
    with bypassing_triggers(log) as connection:
        connection.execute(
            text("UPDATE audit_entries SET data = :d WHERE seq = :s"), {"d": data_text, "s": seq}
        )


@pytest.fixture
def home_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str
) -> Ed25519PrivateKey:
    """The log's key where the CLI finds it, and the CLI pointed at this test's database."""
    monkeypatch.setenv("CLOSELOOP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CLOSELOOP_DATABASE_URL", database_url)
    monkeypatch.delenv("CLOSELOOP_AUDIT_SIGNING_KEY", raising=False)
    return load_or_create_signing_key(default_key_path(tmp_path / "home"))


def acknowledge(seq: int, reason: str = "test row written by hand during migration") -> str:
    result = CliRunner().invoke(main, ["audit", "incident", str(seq), "--reason", reason])
    assert result.exit_code == 0, result.output
    return result.output


def test_an_acknowledged_entry_no_longer_stops_signing_and_is_reported_on_every_run(
    audit_log: AuditLog, home_key: Ed25519PrivateKey
) -> None:
    append_many(audit_log, 6)
    spoil_data(audit_log, 4)
    append_many(audit_log, 3, start=6)
    with pytest.raises(CheckpointRefused, match="closeloop audit incident"):
        Checkpointer(audit_log, home_key).checkpoint()

    said = acknowledge(4)
    assert "acknowledged entry 4 in entry 10" in said
    made = Checkpointer(audit_log, home_key).checkpoint().checkpoint
    assert made is not None and made.tree_size == 10
    for _ in range(2):  # for ever: every run says it
        report = verify(audit_log, home_key)
        assert report.ok, report.problems
        assert report.incidents == [4]
        assert any("entry 4: acknowledged incident (entry 10" in w for w in report.warnings)
        assert "1 acknowledged incident(s): entry 4" in report.summary()


def test_tampering_after_an_acknowledged_incident_is_still_caught(
    audit_log: AuditLog, home_key: Ed25519PrivateKey
) -> None:
    append_many(audit_log, 8)
    spoil_data(audit_log, 3)
    acknowledge(3)
    Checkpointer(audit_log, home_key).checkpoint()
    append_many(audit_log, 2, start=8)  # entries 10 and 11, not signed yet
    spoil_data(audit_log, 7, '{"b":1,"a":2}')  # a second bad row, signed, not acknowledged
    spoil_data(audit_log, 11, '{"b":1,"a":2}')  # and one not yet signed
    report = verify(audit_log, home_key)
    assert not report.ok and report.first_bad_seq == 7
    assert {p.seq for p in report.problems if p.seq} == {7, 11}
    with pytest.raises(CheckpointRefused, match="entry 11"):
        Checkpointer(audit_log, home_key).checkpoint()


@pytest.mark.parametrize("forgery", ["a duplicate key", "members out of order"])
def test_non_canonical_json_can_be_acknowledged_too(
    audit_log: AuditLog, home_key: Ed25519PrivateKey, forgery: str
) -> None:
    append_many(audit_log, 6)
    _store_as_if_canonical(audit_log, FORGED[forgery])
    acknowledge(6)
    assert Checkpointer(audit_log, home_key).checkpoint().checkpoint is not None
    assert verify(audit_log, home_key).incidents == [6]


def test_an_acknowledgment_not_signed_by_the_log_key_counts_for_nothing(
    audit_log: AuditLog, home_key: Ed25519PrivateKey
) -> None:
    """The writer role can append entries but holds no key: it cannot excuse its forgeries."""
    append_many(audit_log, 5)
    spoil_data(audit_log, 5)
    stored_hash = dict(audit_log.entry_hashes())[5]
    audit_log.append(
        incidents.acknowledgment(
            Ed25519PrivateKey.generate(),
            seq=5,
            entry_hash=stored_hash,
            finding="its data is not JSON",
            reason="nothing to see here",
        )
    )
    with pytest.raises(CheckpointRefused, match="entry 5"):
        Checkpointer(audit_log, home_key).checkpoint()
    report = verify(audit_log, home_key)
    assert not report.ok and report.incidents == []


def test_the_bundle_verifier_reports_an_acknowledged_incident_and_passes(
    audit_log: AuditLog, home_key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    append_many(audit_log, 6)
    spoil_data(audit_log, 2)
    acknowledge(2)
    Checkpointer(audit_log, home_key).checkpoint()
    bundle = tmp_path / "bundle"
    export_bundle(audit_log, bundle, home_key.public_key(), EntryFilter())
    key_file = tmp_path / "log.pem"
    key_file.write_bytes(public_key_pem(home_key))
    result = subprocess.run(
        [sys.executable, "verify.py", "--public-key", str(key_file)],
        cwd=bundle, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "entry 2: acknowledged incident (entry 7" in result.stdout + result.stderr


def test_the_incident_command_refuses_what_it_cannot_acknowledge(
    audit_log: AuditLog, home_key: Ed25519PrivateKey
) -> None:
    append_many(audit_log, 3)
    fine = CliRunner().invoke(main, ["audit", "incident", "2", "--reason", "x"])
    assert fine.exit_code == 1 and "nothing to acknowledge" in fine.output
    missing = CliRunner().invoke(main, ["audit", "incident", "99", "--reason", "x"])
    assert missing.exit_code == 2 and "there is no entry 99" in missing.output
    blank = CliRunner().invoke(main, ["audit", "incident", "2", "--reason", " "])
    assert blank.exit_code == 2 and "--reason" in blank.output
    assert audit_log.count() == 3  # nothing appended by a refusal
