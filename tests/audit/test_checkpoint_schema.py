"""The `audit.checkpoints.v1` contract: what is published is what the schema describes, and
its examples are real signatures a witness can check."""

from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.checkpoints import SignedCheckpoint
from audit.signing import verify_checkpoint_signature
from audit.store import AuditLog
from schemas.contract import examples_dir, validator_for
from schemas.topics import AUDIT_CHECKPOINTS
from tests.audit.conftest import append_many, checkpoint

EXAMPLES = sorted(examples_dir(AUDIT_CHECKPOINTS).glob("*.json"))
# The examples are signed with this throwaway key (private bytes 00 01 02 … 1f).
EXAMPLE_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_carry_valid_signatures(path) -> None:
    cp = SignedCheckpoint.from_json(json.loads(path.read_text()))
    verify_checkpoint_signature(EXAMPLE_KEY.public_key(), cp.checkpoint, cp.signature)


def test_stored_checkpoints_serialize_to_the_contract(
    audit_log: AuditLog, key: Ed25519PrivateKey
) -> None:
    append_many(audit_log, 3)
    made = checkpoint(audit_log, key)
    document = made.to_json()
    assert list(validator_for(AUDIT_CHECKPOINTS).iter_errors(document)) == []
    assert SignedCheckpoint.from_json(json.loads(json.dumps(document))) == made
    assert audit_log.checkpoints() == [made]
