"""Ed25519-signed checkpoints: the log operator's commitment to a Merkle root.

A hash chain alone cannot catch a consistent rewrite of the whole log; a signed checkpoint
can, once it has left the building (published to `audit.checkpoints.v1`, kept by an
auditor). The signature covers a small text message that anyone can rebuild in any
language from the checkpoint's fields, byte for byte:

    closeloop-audit-checkpoint/v1\\n
    <tree_size as decimal, no sign or leading zeros>\\n
    <root_hash as 64 lower-case hex digits>\\n
    <timestamp as RFC 3339 UTC, six fractional digits, "Z": 2026-11-26T03:40:00.000000Z>\\n

UTF-8 (all ASCII), each line ending in one LF, including the last. The key id is not
signed: it only says which public key to verify with, and a wrong one fails verification.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from audit.canonical import format_time

MESSAGE_HEADER = "closeloop-audit-checkpoint/v1"
SIGNATURE_SIZE = 64


class CheckpointSignatureError(ValueError):
    """A checkpoint signature is invalid, or was checked with the wrong key."""


class Checkpoint(BaseModel):
    """A claim that the log had `tree_size` entries with Merkle root `root_hash` at `timestamp`."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    tree_size: int = Field(ge=0)
    root_hash: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    timestamp: AwareDatetime
    key_id: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]

    @field_validator("root_hash", mode="before")
    @classmethod
    def _lower_hex(cls, value: object) -> object:
        # Hex case is not meaningful, but the signed text must be one exact string.
        return value.lower() if isinstance(value, str) else value

    @field_validator("timestamp")
    @classmethod
    def _to_utc(cls, value: datetime) -> datetime:
        # Stored and published checkpoints then read the same as the signed text.
        return value.astimezone(UTC)

    def root_bytes(self) -> bytes:
        """The root as the 32 raw bytes that `audit.merkle` compares."""
        return bytes.fromhex(self.root_hash)

    def signed_message(self) -> bytes:
        """The exact bytes the signature covers (format in the module docstring)."""
        lines = (MESSAGE_HEADER, str(self.tree_size), self.root_hash, format_time(self.timestamp))
        return "".join(f"{line}\n" for line in lines).encode("ascii")


def load_private_key_pem(data: bytes) -> Ed25519PrivateKey:
    """Load an unencrypted PKCS#8 PEM private key, refusing anything but Ed25519."""
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"expected an Ed25519 private key, got {type(key).__name__}")
    return key


def load_public_key_pem(data: bytes) -> Ed25519PublicKey:
    """Load a SubjectPublicKeyInfo PEM public key (what auditors are given), Ed25519 only."""
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"expected an Ed25519 public key, got {type(key).__name__}")
    return key


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted: the file's 0600 mode (or the secret store) protects it."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _public(key: Ed25519PrivateKey | Ed25519PublicKey) -> Ed25519PublicKey:
    return key.public_key() if isinstance(key, Ed25519PrivateKey) else key


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """SubjectPublicKeyInfo PEM of the public half, to hand to auditors."""
    return _public(key).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """First 16 hex digits of SHA-256 over the 32 raw public key bytes.

    Short enough to print, long enough to tell keys apart across rotations, and
    recomputable from the public key alone.
    """
    raw = _public(key).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_or_create_signing_key(path: Path) -> Ed25519PrivateKey:
    """Load the signing key at `path`, generating it (mode 0600) on first use.

    The new key is written to a private temporary file and hard-linked into place, so the
    key file is never readable by others, never seen half-written, and when two processes
    start at once both end up with the same key instead of one overwriting the other's.
    """
    path = Path(path)
    if path.exists():
        return load_private_key_pem(path.read_bytes())
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:  # mkstemp creates the file with mode 0600
            tmp.write(private_key_pem(key))
            tmp.flush()
            os.fsync(tmp.fileno())
        try:
            os.link(tmp_name, path)
        except FileExistsError:  # another process won the race: use its key
            return load_private_key_pem(path.read_bytes())
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
    return key


def sign_checkpoint(key: Ed25519PrivateKey, checkpoint: Checkpoint) -> bytes:
    """The 64-byte Ed25519 signature over `checkpoint.signed_message()`."""
    own_id = key_id(key)
    if checkpoint.key_id != own_id:
        raise ValueError(
            f"checkpoint names key {checkpoint.key_id} but the signing key is {own_id}"
        )
    return key.sign(checkpoint.signed_message())


def verify_checkpoint_signature(
    public_key: Ed25519PublicKey, checkpoint: Checkpoint, signature: bytes
) -> None:
    """Raise `CheckpointSignatureError` unless `signature` is this key's over `checkpoint`."""
    own_id = key_id(public_key)
    if checkpoint.key_id != own_id:
        raise CheckpointSignatureError(
            f"checkpoint at tree size {checkpoint.tree_size} names key {checkpoint.key_id}, "
            f"but the verifying key is {own_id}"
        )
    if len(signature) != SIGNATURE_SIZE:
        raise CheckpointSignatureError(
            f"signature is {len(signature)} bytes, an Ed25519 signature is {SIGNATURE_SIZE}"
        )
    try:
        public_key.verify(signature, checkpoint.signed_message())
    except InvalidSignature:
        raise CheckpointSignatureError(
            f"invalid signature on checkpoint at tree size {checkpoint.tree_size} "
            f"(root {checkpoint.root_hash}, key {own_id}): it was altered or signed by "
            "another key"
        ) from None
