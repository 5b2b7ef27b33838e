"""Checkpoints as C2SP `tlog-checkpoint` signed notes (c2sp.org/tlog-checkpoint).

The note text is three lines: the log's origin, the tree size in decimal and the Merkle root
in standard base64. The log signs it with the same Ed25519 key as the v1 text of
`audit.signing`, under the origin as key name; old checkpoints, made before notes existed,
keep only their v1 signature and keep verifying.

The origin names the log. `CLOSELOOP_AUDIT_ORIGIN` sets it; by default it is derived from
the signing key (`closeloop.audit/<key id>`), so one key always means one log.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from audit import note
from audit.signing import key_id

DEFAULT_ORIGIN_PREFIX = "closeloop.audit/"


def default_origin(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    return DEFAULT_ORIGIN_PREFIX + key_id(key)


@dataclass(frozen=True)
class TreeHead:
    """What a tlog-checkpoint commits to: the log's name, its size and its root."""

    origin: str
    tree_size: int
    root: bytes  # 32 bytes

    def text(self) -> str:
        note.check_key_name(self.origin)
        return f"{self.origin}\n{self.tree_size}\n{base64.b64encode(self.root).decode()}\n"

    @classmethod
    def from_text(cls, text: str) -> TreeHead:
        """Parse the note text; extension lines are refused (we never write them)."""
        lines = text.split("\n")
        if len(lines) != 4 or lines[3] != "":
            raise note.NoteError("checkpoint text must be exactly origin, size and root lines")
        origin, size, root = lines[:3]
        if not size.isascii() or not size.isdigit() or (size != "0" and size.startswith("0")):
            raise note.NoteError(f"checkpoint size {size[:30]!r} is not a decimal count")
        try:
            raw = base64.b64decode(root, validate=True)
        except binascii.Error:
            raise note.NoteError("checkpoint root is not base64") from None
        if len(raw) != 32:
            raise note.NoteError(f"checkpoint root is {len(raw)} bytes, a SHA-256 root is 32")
        return cls(origin, int(size), raw)


def sign_tree_head(head: TreeHead, key: Ed25519PrivateKey) -> note.NoteSignature:
    """The log's signature line, under its origin as key name."""
    return note.sign(head.text(), head.origin, key)


def signed_note(head: TreeHead, signatures: tuple[note.NoteSignature, ...]) -> str:
    return note.SignedNote(head.text(), signatures).encode()


def open_checkpoint(text: str, log: note.Verifier) -> tuple[TreeHead, note.SignedNote]:
    """Parse a checkpoint note and check the log's own signature; raises `NoteError`."""
    parsed = note.parse(text)
    head = TreeHead.from_text(parsed.text)
    if head.origin != log.name:
        raise note.NoteError(f"checkpoint is of log {head.origin!r}, expected {log.name!r}")
    if not log.verifies(parsed):
        raise note.NoteError(f"checkpoint carries no signature of the log {log.name}")
    return head, parsed


def note_problem(
    note_text: str, tree_size: int, root_hash: str, public_key: Ed25519PublicKey
) -> tuple[str | None, str | None]:
    """Check a checkpoint's note against its v1 fields and the log's key.

    Returns (what is wrong or None, the note's origin or None). A note must be signed by
    the same key as the v1 text and name the same tree size and root.
    """
    try:
        parsed = note.parse(note_text)
        head = TreeHead.from_text(parsed.text)
        if not note.Verifier(head.origin, public_key).verifies(parsed):
            return f"its C2SP note has no signature of log {head.origin}", head.origin
    except note.NoteError as exc:
        return f"its C2SP note is not valid: {exc}", None
    if head.tree_size != tree_size or head.root.hex() != root_hash:
        return (
            f"its C2SP note names size {head.tree_size} and root {head.root.hex()}, "
            "not the checkpoint's",
            head.origin,
        )
    return None, head.origin
