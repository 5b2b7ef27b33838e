"""What is stored must be what was hashed (issue 11, attack 5). A row whose data text is not
its own RFC 8785 encoding (a duplicate key, `1e-400`, other spacing or order) could show
readers another value than the hash covers, even when its hash was computed over the
canonical form: verification names the entry, and the checkpointer refuses to sign it.
On SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from audit import canonical
from audit.checkpointer import Checkpointer, CheckpointRefused
from audit.store import AuditLog
from tests.audit.conftest import append_many, bypassing_triggers, verify

FORGED = {
    "a duplicate key": '{"decision":"reject","decision":"investigate"}',
    "a number below the smallest double": '{"amount":1e-400}',
    "members out of order": '{"b":1,"a":2}',
    "spacing": '{"a": 1}',
}


def _store_as_if_canonical(log: AuditLog, data_text: str) -> None:
    """Replace entry 6's data and recompute its hash over the *canonical* form, as a forger
    who wants the old verifier to pass would; the tail after it is rechained."""
    with bypassing_triggers(log) as connection:
        row = dict(
            connection.execute(text("SELECT * FROM audit_entries WHERE seq = 6")).one()._mapping
        )
        encoded = canonical.fast_entry_bytes(
            6, row["complaint_id"], row["entry_type"], row["actor"], row["recorded_at"],
            row["occurred_at"], row["reason"], None, row["idempotency_key"], row["prev_hash"],
            data_text=data_text,
        )  # fmt: skip
        new_hash = hashlib.sha256(encoded).hexdigest()
        connection.execute(
            text("UPDATE audit_entries SET data = :d, entry_hash = :h WHERE seq = 6"),
            {"d": data_text, "h": new_hash},
        )
        connection.execute(
            text("UPDATE audit_entries SET prev_hash = :h WHERE seq = 7"), {"h": new_hash}
        )


@pytest.mark.parametrize("forgery", FORGED)
def test_non_canonical_stored_data_is_named_by_verify(
    audit_log: AuditLog, key: Ed25519PrivateKey, forgery: str
) -> None:
    append_many(audit_log, 6)  # entry 6 is the tail: nothing after it to rechain
    _store_as_if_canonical(audit_log, FORGED[forgery])
    report = verify(audit_log, key)
    assert not report.ok
    assert report.first_bad_seq == 6
    assert "not stored as its canonical RFC 8785 text" in report.problems[0].message


@pytest.mark.parametrize("forgery", FORGED)
def test_the_checkpointer_refuses_to_sign_non_canonical_data(
    audit_log: AuditLog, key: Ed25519PrivateKey, forgery: str
) -> None:
    append_many(audit_log, 6)
    _store_as_if_canonical(audit_log, FORGED[forgery])
    with pytest.raises(CheckpointRefused, match="entry 6: its data is not stored as its canon"):
        Checkpointer(audit_log, key).checkpoint()


def test_canonical_data_passes(audit_log: AuditLog, key: Ed25519PrivateKey) -> None:
    append_many(audit_log, 6)
    assert verify(audit_log, key).ok
