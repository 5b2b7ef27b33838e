"""`verify` beyond the tamper suite: progress, keys, witnesses, checkpoint lists, and the
honest warnings about what is not (yet) signed."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from audit.store import AuditLog
from audit.verify import verify_log
from tests.audit.conftest import append_many, bypassing_triggers, checkpoint, verify


def test_progress_is_reported_while_verifying(audit_log: AuditLog, key: Ed25519PrivateKey) -> None:
    append_many(audit_log, 25)
    calls: list[tuple[int, int]] = []
    report = verify_log(
        audit_log, [key.public_key()], progress=lambda *a: calls.append(a), progress_every=10
    )
    assert report.ok
    assert calls == [(10, 25), (20, 25), (25, 25)]  # the last one once, at the end


def test_an_empty_log_verifies(audit_log: AuditLog, key: Ed25519PrivateKey) -> None:
    report = verify(audit_log, key)
    assert report.ok and report.entries == 0


def test_unsigned_entries_are_a_warning_not_a_failure(
    audit_log: AuditLog, key: Ed25519PrivateKey
) -> None:
    append_many(audit_log, 3)
    assert any("no checkpoints" in w for w in verify(audit_log, key).warnings)
    checkpoint(audit_log, key)
    append_many(audit_log, 2, start=3)
    report = verify(audit_log, key)
    assert report.ok
    assert report.warnings == [
        "entries 4..5 are not signed by a checkpoint yet (the worker signs them shortly; "
        "or run `closeloop audit checkpoint`)"
    ]


def test_checkpoints_signed_by_an_untrusted_key_fail(
    audit_log: AuditLog, key: Ed25519PrivateKey
) -> None:
    append_many(audit_log, 3)
    checkpoint(audit_log, key)
    stranger = Ed25519PrivateKey.generate()
    report = verify(audit_log, stranger)
    assert not report.ok
    assert "which is not a trusted key" in str(report.first_problem)


def test_a_rotated_key_verifies_with_both_public_keys(
    audit_log: AuditLog, key: Ed25519PrivateKey
) -> None:
    new_key = Ed25519PrivateKey.generate()
    append_many(audit_log, 3)
    checkpoint(audit_log, key)
    append_many(audit_log, 3, start=3)
    checkpoint(audit_log, new_key)
    assert verify_log(audit_log, [key.public_key(), new_key.public_key()]).ok
    assert not verify(audit_log, new_key).ok


def test_a_deleted_checkpoint_leaves_a_gap_in_the_numbers(
    audit_log: AuditLog, key: Ed25519PrivateKey
) -> None:
    for start in (0, 3, 6):
        append_many(audit_log, 3, start=start)
        checkpoint(audit_log, key)
    with bypassing_triggers(audit_log) as connection:
        connection.execute(text("DELETE FROM audit_checkpoint_notes WHERE checkpoint_number = 2"))
        connection.execute(text("DELETE FROM audit_checkpoints WHERE number = 2"))
    report = verify(audit_log, key)
    assert str(report.first_problem) == "checkpoint 2 missing (gap between checkpoints 1 and 3)"


def test_witnessed_checkpoints_catch_what_the_database_no_longer_shows(
    audit_log: AuditLog, key: Ed25519PrivateKey
) -> None:
    """The tail and its checkpoint both deleted: only a witness's copy can tell."""
    append_many(audit_log, 5)
    checkpoint(audit_log, key)
    append_many(audit_log, 5, start=5)
    witnessed = checkpoint(audit_log, key)  # published; a witness kept it
    with bypassing_triggers(audit_log) as connection:
        connection.execute(text("DELETE FROM audit_entries WHERE seq > 5"))
        connection.execute(text("DELETE FROM audit_checkpoint_notes WHERE checkpoint_number = 2"))
        connection.execute(text("DELETE FROM audit_checkpoints WHERE number = 2"))

    assert verify(audit_log, key).ok  # the database alone looks consistent
    report = verify_log(audit_log, [key.public_key()], witnessed=[witnessed])
    assert report.first_bad_seq == 6
    assert "entries 6..10 missing: witnessed checkpoint 2 (size 10)" in str(report.first_problem)
    assert any("missing from the database" in str(p) for p in report.problems)


def test_a_witnessed_checkpoint_that_differs_from_the_stored_one_fails(
    audit_log: AuditLog, key: Ed25519PrivateKey
) -> None:
    append_many(audit_log, 4)
    witnessed = checkpoint(audit_log, key)
    append_many(audit_log, 2, start=4)
    with bypassing_triggers(audit_log) as connection:  # replaced by a re-signed copy
        connection.execute(text("DELETE FROM audit_checkpoint_notes"))
        connection.execute(text("DELETE FROM audit_checkpoints"))
    checkpoint(audit_log, key)
    report = verify_log(audit_log, [key.public_key()], witnessed=[witnessed])
    assert any(
        "witnessed checkpoint 1 (size 4): the database's checkpoint 1 differs" in str(p)
        for p in report.problems
    )


def test_more_jobs_find_the_same(audit_log: AuditLog, key: Ed25519PrivateKey) -> None:
    """Workers recompute shares of the log; the findings and their order do not change."""
    append_many(audit_log, 120)
    checkpoint(audit_log, key)
    append_many(audit_log, 30, start=120)
    with bypassing_triggers(audit_log) as connection:
        connection.execute(text("UPDATE audit_entries SET reason = 'Minor' WHERE seq = 7"))
        connection.execute(text("DELETE FROM audit_entries WHERE seq = 64"))
        connection.execute(
            text("UPDATE audit_entries SET data = :d WHERE seq = 99"), {"d": '{"b":1, "a":2}'}
        )
    one = verify_log(audit_log, [key.public_key()])
    two = verify_log(audit_log, [key.public_key()], jobs=2)
    assert not one.ok
    assert [str(p) for p in two.problems] == [str(p) for p in one.problems]
    assert (two.entries, two.root_hash, two.warnings) == (one.entries, one.root_hash, one.warnings)
    assert any("entry 7: hash mismatch" in str(p) for p in one.problems)
