"""C2SP signed notes (c2sp.org/signed-note): text that standard transparency tools read.

A signed note is a UTF-8 text ending in a newline, a blank line, and one signature line per
signer: an em dash (U+2014), a space, the key name, a space and the base64 of the 4-byte
key id followed by the signature. The signature covers the text, final newline included.
Checkpoints in this format (`audit.tlog_checkpoint`) can be checked by any signed-note
implementation (Go's `golang.org/x/mod/sumdb/note`, sigsum, transparency-dev witnesses) and
cosigned by witnesses (`audit.witness`).

Only Ed25519 (signature type 0x01) is made and checked here; signature lines of other keys
are kept and ignored, as the specification asks, so witness cosignatures ride along.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ED25519 = 0x01
SIGNATURE_PREFIX = "\u2014 "
MAX_NOTE_BYTES = 1 << 20  # a note is a few hundred bytes; refuse to parse megabytes
MAX_SIGNATURES = 100  # the limit Go's note.Open applies


class NoteError(ValueError):
    """A signed note is malformed, or no trusted signature on it verifies."""


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: who signed (name and 4-byte key id) and the signature bytes."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        encoded = base64.b64encode(self.key_id + self.signature).decode("ascii")
        return f"{SIGNATURE_PREFIX}{self.name} {encoded}\n"


@dataclass(frozen=True)
class SignedNote:
    text: str
    signatures: tuple[NoteSignature, ...]

    def encode(self) -> str:
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def check_key_name(name: str) -> None:
    """Key names are non-empty and hold neither Unicode spaces nor '+' (the vkey separator)."""
    if not name or any(ch.isspace() or ch == "+" for ch in name):
        raise NoteError(f"key name {name[:60]!r} is empty or holds a space or '+'")


def ed25519_key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """SHA-256(key name || 0x0A || 0x01 || 32-byte public key)[:4], as the spec recommends."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(name.encode("utf-8") + b"\n" + bytes([ED25519]) + raw).digest()[:4]


def vkey(name: str, public_key: Ed25519PublicKey) -> str:
    """The verifier key text a witness or auditor is given: `name+hexid+base64(0x01||key)`."""
    check_key_name(name)
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    encoded = base64.b64encode(bytes([ED25519]) + raw).decode("ascii")
    return f"{name}+{ed25519_key_id(name, public_key).hex()}+{encoded}"


@dataclass(frozen=True)
class Verifier:
    """A trusted Ed25519 key under a name: what checks one signer's lines on a note."""

    name: str
    public_key: Ed25519PublicKey

    @property
    def key_id(self) -> bytes:
        return ed25519_key_id(self.name, self.public_key)

    @classmethod
    def from_vkey(cls, text: str) -> Verifier:
        """Parse a vkey; raises `NoteError` naming what is wrong."""
        parts = text.strip().split("+", 2)  # base64 may hold "+" too
        if len(parts) != 3:
            raise NoteError("a verifier key is name+hex key id+base64 key, three parts")
        name, hex_id, encoded = parts
        check_key_name(name)
        try:
            material = base64.b64decode(encoded, validate=True)
            claimed = bytes.fromhex(hex_id)
        except (binascii.Error, ValueError):
            raise NoteError("verifier key: key id is not hex or key is not base64") from None
        if len(material) != 33 or material[0] != ED25519:
            raise NoteError("verifier key: only Ed25519 keys (type 0x01, 32 bytes) are supported")
        verifier = cls(name, Ed25519PublicKey.from_public_bytes(material[1:]))
        if claimed != verifier.key_id:
            raise NoteError(f"verifier key {name}: key id {hex_id} does not match its key")
        return verifier

    def verifies(self, note: SignedNote) -> bool:
        """True when this key signed the note; False when it did not sign it at all.

        A line under this key's name and id that does not verify is an error: the note
        was altered, and the spec says such a note is rejected as a whole.
        """
        for sig in note.signatures:
            if sig.name == self.name and sig.key_id == self.key_id:
                try:
                    self.public_key.verify(sig.signature, note.text.encode("utf-8"))
                except InvalidSignature:
                    raise NoteError(f"signature of {self.name} on the note is invalid") from None
                return True
        return False


def sign(text: str, name: str, key: Ed25519PrivateKey) -> NoteSignature:
    """An Ed25519 signature line over `text` under key name `name`."""
    check_text(text)
    check_key_name(name)
    return NoteSignature(name, ed25519_key_id(name, key.public_key()), key.sign(text.encode()))


def check_text(text: str) -> None:
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("note text must end in a newline and hold no blank line")
    if any(ord(ch) < 0x20 and ch != "\n" for ch in text):
        raise NoteError("note text holds a control character")


def parse(note: str) -> SignedNote:
    """Split a signed note into text and signature lines; raises `NoteError`."""
    if len(note.encode("utf-8", "surrogatepass")) > MAX_NOTE_BYTES:
        raise NoteError(f"note is larger than {MAX_NOTE_BYTES} bytes")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("note has no blank line before its signatures")
    text, block = note[: split + 1], note[split + 2 :]
    check_text(text)
    if not block.endswith("\n"):
        raise NoteError("signature block must end in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"note has more than {MAX_SIGNATURES} signatures")
    signatures = []
    for number, line in enumerate(lines, start=1):
        if not line.startswith(SIGNATURE_PREFIX):
            raise NoteError(f"signature line {number} does not start with an em dash and space")
        name, space, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
        if not space:
            raise NoteError(f"signature line {number} has no signature after the key name")
        check_key_name(name)
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise NoteError(f"signature line {number} is not base64") from None
        if len(raw) < 5:
            raise NoteError(f"signature line {number} is too short")
        signatures.append(NoteSignature(name, raw[:4], raw[4:]))
    if not signatures:
        raise NoteError("note has no signature")
    return SignedNote(text, tuple(signatures))
