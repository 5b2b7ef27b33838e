"""Inclusion and consistency proofs that a third party checks with nothing but RFC 9162
and the public key; and clear refusals when no proof can be given."""

from __future__ import annotations

import hashlib

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit import canonical, merkle
from audit.checkpoints import SignedCheckpoint
from audit.proofs import ProofUnavailable, consistency_proof, inclusion_proof
from audit.signing import verify_checkpoint_signature
from audit.store import AuditLog
from tests.audit.conftest import append_many, bypassing_triggers, checkpoint


@pytest.fixture
def log_with_checkpoints(audit_log: AuditLog, key: Ed25519PrivateKey) -> AuditLog:
    append_many(audit_log, 6)
    checkpoint(audit_log, key)
    append_many(audit_log, 7, start=6)
    checkpoint(audit_log, key)
    return audit_log


def test_an_inclusion_proof_checks_out_from_its_json_alone(
    log_with_checkpoints: AuditLog, key: Ed25519PrivateKey
) -> None:
    document = inclusion_proof(log_with_checkpoints, 5).to_json()

    entry = document["entry"]
    hashed = {name: entry[name] for name in canonical.HASHED_FIELDS}
    entry_hash = hashlib.sha256(rfc8785.dumps(hashed)).hexdigest()
    leaf = merkle.leaf_hash(bytes.fromhex(entry_hash))
    cp = SignedCheckpoint.from_json(document["checkpoint"])
    verify_checkpoint_signature(key.public_key(), cp.checkpoint, cp.signature)
    merkle.verify_inclusion(
        leaf,
        document["leaf_index"],
        cp.tree_size,
        [bytes.fromhex(h) for h in document["proof"]],
        cp.checkpoint.root_bytes(),
    )
    assert (entry_hash, document["leaf_index"], cp.tree_size) == (entry["entry_hash"], 4, 13)


def test_a_consistency_proof_links_two_signed_checkpoints(log_with_checkpoints: AuditLog) -> None:
    proof = consistency_proof(log_with_checkpoints, 6)  # to the latest checkpoint
    old, new = log_with_checkpoints.checkpoints()
    assert (proof.old_checkpoint, proof.new_checkpoint) == (old, new)
    merkle.verify_consistency(
        6, 13, old.checkpoint.root_bytes(), new.checkpoint.root_bytes(), proof.path
    )


def test_a_consistency_proof_between_unsigned_sizes_says_so(log_with_checkpoints: AuditLog) -> None:
    proof = consistency_proof(log_with_checkpoints, 3, 9)
    assert proof.old_checkpoint is None and proof.new_checkpoint is None
    merkle.verify_consistency(3, 9, proof.old_root, proof.new_root, proof.path)


@pytest.mark.parametrize(
    ("seq", "says"),
    [
        (0, "there is no entry 0: the log has entries 1..13"),
        (14, "there is no entry 14: the log has entries 1..13"),
    ],
)
def test_entries_that_do_not_exist_have_no_proof(
    log_with_checkpoints: AuditLog, seq: int, says: str
) -> None:
    with pytest.raises(ProofUnavailable, match=says):
        inclusion_proof(log_with_checkpoints, seq)


def test_entries_newer_than_the_latest_checkpoint_need_a_checkpoint_first(
    log_with_checkpoints: AuditLog,
) -> None:
    append_many(log_with_checkpoints, 1, start=13)
    with pytest.raises(ProofUnavailable, match=r"newer than the latest checkpoint.*checkpoint`"):
        inclusion_proof(log_with_checkpoints, 14)


def test_without_any_checkpoint_there_is_nothing_to_prove_against(audit_log: AuditLog) -> None:
    append_many(audit_log, 2)
    with pytest.raises(ProofUnavailable, match=r"no checkpoint yet.*closeloop audit checkpoint"):
        inclusion_proof(audit_log, 1)
    with pytest.raises(ProofUnavailable, match="no checkpoint yet"):
        consistency_proof(audit_log, 1)


def test_bad_sizes_are_refused(log_with_checkpoints: AuditLog) -> None:
    with pytest.raises(ProofUnavailable, match="1 <= OLD_SIZE <= NEW_SIZE"):
        consistency_proof(log_with_checkpoints, 9, 3)
    with pytest.raises(ProofUnavailable, match="there is no tree of size 20"):
        consistency_proof(log_with_checkpoints, 3, 20)


def test_no_proof_is_handed_out_for_a_changed_entry(log_with_checkpoints: AuditLog) -> None:
    with bypassing_triggers(log_with_checkpoints) as connection:
        connection.exec_driver_sql("UPDATE audit_entries SET reason = 'x' WHERE seq = 2")
    with pytest.raises(ProofUnavailable, match=r"entry 2 no longer matches.*audit verify"):
        inclusion_proof(log_with_checkpoints, 2)
