"""Ed25519 checkpoint cosignatures (c2sp.org/tlog-cosignature, signature type 0x04).

A witness's cosignature says: at this time, the largest checkpoint of this log I have seen
and checked to be consistent with everything before it has this root. It is a signature
line on the checkpoint note, under the witness's name; the signed message is
`cosignature/v1\\ntime <unix seconds>\\n` followed by the checkpoint's note text, and the
signature bytes are the 8-byte big-endian timestamp followed by the Ed25519 signature.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit import note
from audit.checkpoints import SignedCheckpoint

COSIGNATURE_V1 = 0x04
_HEADER = "cosignature/v1\n"


def _raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """SHA-256(name || 0x0A || 0x04 || 32-byte public key)[:4]."""
    digest = hashlib.sha256(name.encode() + b"\n" + bytes([COSIGNATURE_V1]) + _raw(public_key))
    return digest.digest()[:4]


def message(checkpoint_text: str, timestamp: int) -> bytes:
    return f"{_HEADER}time {timestamp}\n{checkpoint_text}".encode()


def cosign(
    checkpoint_text: str, name: str, key: Ed25519PrivateKey, timestamp: int
) -> note.NoteSignature:
    """The witness's signature line over a checkpoint it has checked."""
    note.check_key_name(name)
    if not 0 < timestamp < 2**63:
        raise ValueError("a cosignature's timestamp is a positive POSIX time")
    signature = key.sign(message(checkpoint_text, timestamp))
    return note.NoteSignature(
        name, key_id(name, key.public_key()), timestamp.to_bytes(8, "big") + signature
    )


def cosigner_vkey(name: str, public_key: Ed25519PublicKey) -> str:
    """The witness's verifier key: `name+hex key id+base64(0x04 || key)`."""
    note.check_key_name(name)
    encoded = base64.b64encode(bytes([COSIGNATURE_V1]) + _raw(public_key)).decode()
    return f"{name}+{key_id(name, public_key).hex()}+{encoded}"


@dataclass(frozen=True)
class Cosigner:
    """A witness an auditor trusts: its name and Ed25519 key."""

    name: str
    public_key: Ed25519PublicKey

    @classmethod
    def from_vkey(cls, text: str) -> Cosigner:
        parts = text.strip().split("+", 2)  # base64 may hold "+" too
        if len(parts) != 3:
            raise note.NoteError("a witness key is name+hex key id+base64 key, three parts")
        name, hex_id, encoded = parts
        note.check_key_name(name)
        try:
            material = base64.b64decode(encoded, validate=True)
            claimed = bytes.fromhex(hex_id)
        except (binascii.Error, ValueError):
            raise note.NoteError("witness key: key id is not hex or key is not base64") from None
        if len(material) != 33 or material[0] != COSIGNATURE_V1:
            raise note.NoteError(
                "witness key: only Ed25519 cosignature keys (type 0x04, 32 bytes) are supported"
            )
        cosigner = cls(name, Ed25519PublicKey.from_public_bytes(material[1:]))
        if claimed != key_id(name, cosigner.public_key):
            raise note.NoteError(f"witness key {name}: key id {hex_id} does not match its key")
        return cosigner

    def cosigned_at(self, signed: note.SignedNote) -> int | None:
        """The time this witness cosigned the note, None if it did not; raises on a forgery."""
        own_id = key_id(self.name, self.public_key)
        for line in signed.signatures:
            if line.name != self.name or line.key_id != own_id:
                continue
            if len(line.signature) != 8 + 64:
                raise note.NoteError(f"cosignature of {self.name} is not 72 bytes")
            timestamp = int.from_bytes(line.signature[:8], "big")
            try:
                self.public_key.verify(line.signature[8:], message(signed.text, timestamp))
            except InvalidSignature:
                raise note.NoteError(f"cosignature of {self.name} is invalid") from None
            return timestamp
        return None


@dataclass(frozen=True)
class CosignatureCheck:
    """Which trusted witnesses cosigned the latest checkpoint, and what is wrong."""

    cosigned_by: tuple[str, ...]
    problems: tuple[tuple[int | None, str], ...]  # (checkpoint number, message)


def check_cosignatures(
    checkpoints: Sequence[SignedCheckpoint], cosigners: Sequence[Cosigner], required: int
) -> CosignatureCheck:
    """Every trusted witness's line must verify; the latest needs `required` of them.

    Lines of witnesses that are not trusted are ignored, as signed notes ask. Only the
    latest checkpoint must reach the quorum: a witness that cosigned it has checked, by
    consistency proofs, everything it cosigned before.
    """
    problems: list[tuple[int | None, str]] = []
    cosigned: list[str] = []
    for cp in checkpoints:
        if cp.note is None:
            continue
        try:
            parsed = note.parse(cp.note)
        except note.NoteError:
            continue  # the note check of the verifier reports it
        names = []
        for cosigner in cosigners:
            try:
                if cosigner.cosigned_at(parsed) is not None:
                    names.append(cosigner.name)
            except note.NoteError as exc:
                problems.append((cp.number, f"{cp.label}: {exc}"))
        cosigned = names
    latest = checkpoints[-1] if checkpoints else None
    if latest is None:
        problems.append((None, "no checkpoint, so nothing a witness could have cosigned"))
    elif latest.note is None:
        problems.append((latest.number, f"{latest.label} has no C2SP note: no witness cosigned it"))
    elif len(cosigned) < required:
        trusted = ", ".join(c.name for c in cosigners)
        problems.append(
            (
                latest.number,
                f"{latest.label} is cosigned by {len(cosigned)} of the {len(cosigners)} "
                f"trusted witnesses ({trusted}); {required} required",
            )
        )
    return CosignatureCheck(tuple(cosigned), tuple(problems))
