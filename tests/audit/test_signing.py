"""Ed25519 checkpoint signing: message format, round trip, rejection, key file handling."""

from __future__ import annotations

import hashlib
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from audit.signing import (
    Checkpoint,
    CheckpointSignatureError,
    key_id,
    load_or_create_signing_key,
    load_private_key_pem,
    load_public_key_pem,
    private_key_pem,
    public_key_pem,
    sign_checkpoint,
    verify_checkpoint_signature,
)

ROOT = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
WHEN = datetime(2026, 11, 26, 3, 40, 0, 123456, tzinfo=UTC)


def _checkpoint(key: Ed25519PrivateKey, **changes: object) -> Checkpoint:
    fields: dict[str, object] = {
        "tree_size": 8,
        "root_hash": ROOT,
        "timestamp": WHEN,
        "key_id": key_id(key),
    }
    fields.update(changes)
    return Checkpoint.model_validate(fields)


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_signed_message_is_the_documented_text(key: Ed25519PrivateKey) -> None:
    assert _checkpoint(key).signed_message() == (
        b"closeloop-audit-checkpoint/v1\n"
        b"8\n"
        b"5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328\n"
        b"2026-11-26T03:40:00.123456Z\n"
    )


def test_message_is_canonical_across_time_zones_and_hex_case(key: Ed25519PrivateKey) -> None:
    cet = WHEN.astimezone(timezone(timedelta(hours=1)))
    other = _checkpoint(key, timestamp=cet, root_hash=ROOT.upper())
    assert other.signed_message() == _checkpoint(key).signed_message()
    assert other.timestamp.utcoffset() == timedelta(0)
    assert other.root_bytes() == bytes.fromhex(ROOT)


@pytest.mark.parametrize(
    "changes",
    [
        {"timestamp": WHEN.replace(tzinfo=None)},  # naive: whose UTC?
        {"tree_size": -1},
        {"tree_size": "8"},
        {"root_hash": "abc"},
        {"key_id": "not-hex"},
        {"extra": 1},
    ],
)
def test_checkpoint_rejects_ambiguous_fields(key: Ed25519PrivateKey, changes: dict) -> None:
    with pytest.raises(ValidationError):
        _checkpoint(key, **changes)


def test_checkpoint_json_round_trip(key: Ed25519PrivateKey) -> None:
    cp = _checkpoint(key)
    assert Checkpoint.model_validate_json(cp.model_dump_json()) == cp


def test_sign_verify_round_trip(key: Ed25519PrivateKey) -> None:
    cp = _checkpoint(key)
    signature = sign_checkpoint(key, cp)
    assert len(signature) == 64
    verify_checkpoint_signature(key.public_key(), cp, signature)


def test_third_party_can_verify_from_pem_and_text(key: Ed25519PrivateKey) -> None:
    cp = _checkpoint(key)
    signature = sign_checkpoint(key, cp)
    auditor_key = load_public_key_pem(public_key_pem(key))
    raw = auditor_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert hashlib.sha256(raw).hexdigest()[:16] == cp.key_id
    auditor_key.verify(signature, cp.signed_message())  # plain Ed25519, no closeloop code


@pytest.mark.parametrize(
    "changes",
    [
        {"tree_size": 9},
        {"root_hash": "0" * 64},
        {"timestamp": WHEN + timedelta(microseconds=1)},
    ],
)
def test_tampered_checkpoint_rejected(key: Ed25519PrivateKey, changes: dict) -> None:
    signature = sign_checkpoint(key, _checkpoint(key))
    with pytest.raises(CheckpointSignatureError, match="invalid signature"):
        verify_checkpoint_signature(key.public_key(), _checkpoint(key, **changes), signature)


def test_tampered_signature_rejected(key: Ed25519PrivateKey) -> None:
    cp = _checkpoint(key)
    signature = bytearray(sign_checkpoint(key, cp))
    signature[10] ^= 1
    with pytest.raises(CheckpointSignatureError, match="invalid signature"):
        verify_checkpoint_signature(key.public_key(), cp, bytes(signature))
    with pytest.raises(CheckpointSignatureError, match="63 bytes"):
        verify_checkpoint_signature(key.public_key(), cp, bytes(signature[:63]))


def test_wrong_key_rejected(key: Ed25519PrivateKey) -> None:
    other = Ed25519PrivateKey.generate()
    cp = _checkpoint(key)
    signature = sign_checkpoint(key, cp)
    with pytest.raises(CheckpointSignatureError, match="verifying key"):
        verify_checkpoint_signature(other.public_key(), cp, signature)
    # Even if the forger also relabels the checkpoint with the other key's id.
    relabelled = _checkpoint(key, key_id=key_id(other))
    with pytest.raises(CheckpointSignatureError, match="invalid signature"):
        verify_checkpoint_signature(other.public_key(), relabelled, signature)


def test_signing_refuses_a_checkpoint_naming_another_key(key: Ed25519PrivateKey) -> None:
    other = Ed25519PrivateKey.generate()
    with pytest.raises(ValueError, match="names key"):
        sign_checkpoint(other, _checkpoint(key))


def test_key_file_created_private_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "nested" / "audit-signing.pem"
    first = load_or_create_signing_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    second = load_or_create_signing_key(path)
    assert key_id(second) == key_id(first)
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left


def test_key_file_not_overwritten_when_it_appears_first(tmp_path: Path) -> None:
    path = tmp_path / "audit-signing.pem"
    existing = Ed25519PrivateKey.generate()
    path.write_bytes(private_key_pem(existing))
    assert key_id(load_or_create_signing_key(path)) == key_id(existing)


def test_pem_round_trip_and_wrong_key_type(key: Ed25519PrivateKey) -> None:
    assert key_id(load_private_key_pem(private_key_pem(key))) == key_id(key)
    assert key_id(key) == key_id(key.public_key())
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.raises(ValueError, match="Ed25519"):
        load_private_key_pem(ec_pem)
