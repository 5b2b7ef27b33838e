"""The tamper suite: every way someone with full database access could rewrite history.

Each case runs on SQLite and on PostgreSQL. The log holds 20 entries signed by two
checkpoints (after entries 10 and 20); the tamperer bypasses the append-only triggers as a
superuser can. In every case `verify` must fail and name the right entry (or checkpoint),
and the standalone verifier, run on an export of the tampered database, must agree word for
word.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, text

from audit import canonical, merkle
from audit.export import export_bundle
from audit.signing import Checkpoint, key_id, sign_checkpoint
from audit.store import AuditLog
from audit.tree import MerkleTree
from tests.audit.conftest import (
    T0,
    append_many,
    bypassing_triggers,
    checkpoint,
    run_standalone,
    verify,
)


@pytest.fixture
def signed_log(audit_log: AuditLog, key: Ed25519PrivateKey) -> AuditLog:
    append_many(audit_log, 10)
    checkpoint(audit_log, key)
    append_many(audit_log, 10, start=10)
    checkpoint(audit_log, key)
    report = verify(audit_log, key)
    assert report.ok, report.problems
    return audit_log


# --- the tampering, as SQL a superuser would run ----------------------------------------


def _rows(connection: Connection, since: int = 1) -> list[dict[str, object]]:
    result = connection.execute(
        text("SELECT * FROM audit_entries WHERE seq >= :s ORDER BY seq"), {"s": since}
    )
    return [dict(row._mapping) for row in result]


def _rehash(row: dict[str, object], prev_hash: str) -> dict[str, object]:
    fields = {name: row[name] for name in canonical.HASHED_FIELDS}
    fields["data"] = json.loads(str(row["data"]))
    fields["prev_hash"] = prev_hash
    return {**row, "prev_hash": prev_hash, "entry_hash": canonical.entry_hash(fields)}


def change_one_field(connection: Connection, key: Ed25519PrivateKey) -> None:
    connection.execute(text("UPDATE audit_entries SET reason = 'Minor: no injury' WHERE seq = 7"))


def delete_entry(connection: Connection, key: Ed25519PrivateKey) -> None:
    connection.execute(text("DELETE FROM audit_entries WHERE seq = 13"))


def insert_forged_entry(connection: Connection, key: Ed25519PrivateKey) -> None:
    """Make room at seq 8 and insert an entry with a valid hash that links to entry 7."""
    for seq in range(20, 7, -1):
        connection.execute(
            text("UPDATE audit_entries SET seq = :new WHERE seq = :old"),
            {"new": seq + 1, "old": seq},
        )
    (seventh,) = _rows(connection, 7)[:1]
    forged = {
        **seventh,
        "seq": 8,
        "reason": "Customer withdrew the complaint",
        "data": canonical.canonical_json({"withdrawn": True}).decode(),
        "idempotency_key": "forged-8",
    }
    forged = _rehash(forged, str(seventh["entry_hash"]))
    columns = ", ".join(forged)
    values = ", ".join(f":{name}" for name in forged)
    connection.execute(text(f"INSERT INTO audit_entries ({columns}) VALUES ({values})"), forged)


def swap_entries(connection: Connection, key: Ed25519PrivateKey) -> None:
    for old, new in ((5, -1), (6, 5), (-1, 6)):
        connection.execute(
            text("UPDATE audit_entries SET seq = :new WHERE seq = :old"), {"new": new, "old": old}
        )


def truncate_tail(connection: Connection, key: Ed25519PrivateKey) -> None:
    connection.execute(text("DELETE FROM audit_entries WHERE seq >= 16"))


def rewrite_chain_consistently(connection: Connection, key: Ed25519PrivateKey) -> None:
    """Change entry 14 and recompute every later hash and link: the chain verifies again."""
    rows = _rows(connection, 13)
    prev_hash = str(rows[0]["entry_hash"])
    for row in rows[1:]:
        if row["seq"] == 14:
            row["reason"] = "Minor: cosmetic only"
        new = _rehash(row, prev_hash)
        connection.execute(
            text(
                "UPDATE audit_entries SET reason = :reason, prev_hash = :prev_hash, "
                "entry_hash = :entry_hash WHERE seq = :seq"
            ),
            new,
        )
        prev_hash = str(new["entry_hash"])


def forge_checkpoint_signature(connection: Connection, key: Ed25519PrivateKey) -> None:
    signature = bytes.fromhex(
        connection.execute(
            text("SELECT signature FROM audit_checkpoints WHERE number = 2")
        ).scalar_one()
    )
    forged = bytes([signature[0] ^ 1]) + signature[1:]
    connection.execute(
        text("UPDATE audit_checkpoints SET signature = :s WHERE number = 2"), {"s": forged.hex()}
    )


def add_checkpoint_of_another_tree(connection: Connection, key: Ed25519PrivateKey) -> None:
    """A validly signed checkpoint whose root is not this log's (e.g. another deployment's)."""
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(20)]
    other = Checkpoint(
        tree_size=20,
        root_hash=MerkleTree(leaves).root().hex(),
        timestamp=T0,
        key_id=key_id(key),
    )
    connection.execute(
        text(
            "INSERT INTO audit_checkpoints (number, tree_size, root_hash, timestamp, key_id, "
            "signature) VALUES (3, 20, :root, :ts, :kid, :sig)"
        ),
        {
            "root": other.root_hash,
            "ts": canonical.format_time(T0),
            "kid": other.key_id,
            "sig": sign_checkpoint(key, other).hex(),
        },
    )


@dataclass(frozen=True)
class Case:
    tamper: Callable[[Connection, Ed25519PrivateKey], None]
    first_bad_seq: int | None  # the entry verification must name (None: a checkpoint)
    says: tuple[str, ...]  # what the first problem must say


CASES = {
    "one field changed": Case(change_one_field, 7, ("entry 7: hash mismatch",)),
    "entry deleted": Case(delete_entry, 13, ("entry 13 missing (gap between 12 and 14)",)),
    "forged entry inserted": Case(
        insert_forged_entry, 8, ("entry 8: inserted", "entry 9 links to entry 7")
    ),
    "two entries swapped": Case(swap_entries, 5, ("entry 5: hash mismatch", "moved from seq 6")),
    "tail truncated": Case(
        truncate_tail, 16, ("entries 16..20 missing", "checkpoint 2 (size 20)", "truncated")
    ),
    "chain rewritten consistently after a checkpoint": Case(
        rewrite_chain_consistently,
        11,  # the rewrite hides inside 11..20: checkpoint 1 (size 10) still matches
        ("checkpoint 2 (size 20): root mismatch", "entries 11..20", "size 10 still matches"),
    ),
    "checkpoint with a forged signature": Case(
        forge_checkpoint_signature, None, ("checkpoint 2 (size 20): signature invalid",)
    ),
    "checkpoint of a different tree": Case(
        add_checkpoint_of_another_tree,
        None,
        ("checkpoint 3 (size 20): root mismatch", "another tree"),
    ),
}


@pytest.mark.clause("21 CFR 11.10(e)", "ISO 10002:2018 8.5")
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_tampering_is_detected_and_pinpointed(
    signed_log: AuditLog, key: Ed25519PrivateKey, case: Case, tmp_path: Path
) -> None:
    with bypassing_triggers(signed_log) as connection:
        case.tamper(connection, key)

    report = verify(signed_log, key)

    assert not report.ok
    first = report.first_problem
    assert first is not None
    assert report.first_bad_seq == case.first_bad_seq, report.problems
    for words in case.says:
        assert words in first.message, report.problems
    assert report.summary() == f"FAILED: {first.message}"

    # The auditor's own verifier, on an export of the same database, says the same thing.
    bundle = tmp_path / "bundle"
    export_bundle(signed_log, bundle, key.public_key())
    standalone = run_standalone(bundle, "--json")
    assert standalone.returncode == 1, standalone.stdout + standalone.stderr
    result = json.loads(standalone.stdout)
    assert result["summary"] == report.summary()
    assert result["first_bad_seq"] == case.first_bad_seq


def test_rewrite_names_the_changed_entry_when_checkpoints_are_dense(
    audit_log: AuditLog, key: Ed25519PrivateKey
) -> None:
    """A signed root can only narrow a rewrite to the entries between two checkpoints:
    with a checkpoint after every entry, that range is the one rewritten entry."""
    for i in range(6):
        append_many(audit_log, 1, start=i)
        checkpoint(audit_log, key)
    with bypassing_triggers(audit_log) as connection:
        rows = _rows(connection, 3)
        prev_hash = str(rows[0]["entry_hash"])
        for row in rows[1:]:
            if row["seq"] == 4:
                row["reason"] = "rewritten"
            new = _rehash(row, prev_hash)
            connection.execute(
                text(
                    "UPDATE audit_entries SET reason = :reason, prev_hash = :prev_hash, "
                    "entry_hash = :entry_hash WHERE seq = :seq"
                ),
                new,
            )
            prev_hash = str(new["entry_hash"])

    report = verify(audit_log, key)

    assert report.first_bad_seq == 4
    assert "entry 4 is not the entry that was signed" in str(report.first_problem)


def test_an_untouched_log_verifies_on_both_verifiers(
    signed_log: AuditLog, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    report = verify(signed_log, key)
    export_bundle(signed_log, tmp_path / "bundle", key.public_key())
    standalone = run_standalone(tmp_path / "bundle", "--json")

    assert report.ok and report.entries == 20 and report.consistency_proofs == 1
    assert standalone.returncode == 0, standalone.stdout + standalone.stderr
    assert json.loads(standalone.stdout)["summary"] == report.summary()
