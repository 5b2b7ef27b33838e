"""Signed checkpoints as stored, published and exported.

One JSON shape serves all three (the `audit.checkpoints.v1` contract,
`schemas/audit.checkpoints.v1.schema.json`): the checkpoint's number, tree size, root,
timestamp, key id and the Ed25519 signature in hex. The signature covers the text in
`audit.signing` (format, size, root, timestamp); the number is not signed, which is why the
verifier also checks that checkpoint numbers have no gaps and sizes never shrink.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from audit.canonical import format_time, parse_time
from audit.signing import Checkpoint
from schemas.audit_checkpoint import AuditCheckpointEvent


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint, its place in the list of checkpoints, and its signature."""

    number: int
    checkpoint: Checkpoint
    signature: bytes
    malformed: str | None = None  # a stored row whose fields do not parse: what is wrong
    note: str | None = None  # the C2SP signed note (audit.tlog_checkpoint); None before notes

    @property
    def tree_size(self) -> int:
        return self.checkpoint.tree_size

    @property
    def root_hash(self) -> str:
        return self.checkpoint.root_hash

    @property
    def label(self) -> str:
        """How reports name it: `checkpoint 3 (size 120)`."""
        return f"checkpoint {self.number} (size {self.tree_size})"

    def to_event(self) -> AuditCheckpointEvent:
        return AuditCheckpointEvent(
            number=self.number,
            tree_size=self.tree_size,
            root_hash=self.root_hash,
            timestamp=format_time(self.checkpoint.timestamp),
            key_id=self.checkpoint.key_id,
            signature=self.signature.hex(),
            note=self.note,
        )

    def to_json(self) -> dict[str, Any]:
        """The `audit.checkpoints.v1` document; for a malformed row its fields as stored."""
        if self.malformed:
            note = {"note": self.note} if self.note is not None else {}
            return {"format": "closeloop-audit-checkpoint/v1", **self.fields(), **note}
        return self.to_event().model_dump(mode="json", exclude_none=True)

    def fields(self) -> dict[str, Any]:
        """Every field, unvalidated: what two copies of one checkpoint must agree on."""
        return {
            "number": self.number,
            "tree_size": self.tree_size,
            "root_hash": self.root_hash,
            "timestamp": format_time(self.checkpoint.timestamp),
            "key_id": self.checkpoint.key_id,
            "signature": self.signature.hex(),
        }

    def to_row(self) -> dict[str, Any]:
        event = self.to_event()
        return event.model_dump(exclude={"format", "note"})

    @classmethod
    def from_event(cls, event: AuditCheckpointEvent) -> SignedCheckpoint:
        return cls(
            number=event.number,
            checkpoint=Checkpoint(
                tree_size=event.tree_size,
                root_hash=event.root_hash,
                timestamp=parse_time(event.timestamp),
                key_id=event.key_id,
            ),
            signature=bytes.fromhex(event.signature),
            note=event.note,
        )

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> SignedCheckpoint:
        """From a published event or a `checkpoints.jsonl` line; raises `ValueError`."""
        return cls.from_event(AuditCheckpointEvent.model_validate(document))

    @classmethod
    def from_row(cls, row: Any) -> SignedCheckpoint:
        """From a stored row. A tampered row that no longer parses still loads, with its
        fields as they are and `malformed` saying what is wrong, so the verifier reports it
        as a finding instead of crashing."""
        problems = []
        try:
            timestamp = parse_time(row.timestamp)
        except (TypeError, ValueError):
            problems.append(f"timestamp {str(row.timestamp)[:40]!r} is not a time")
            timestamp = datetime(1970, 1, 1, tzinfo=UTC)
        if not isinstance(row.root_hash, str) or not _HEX64.fullmatch(row.root_hash):
            problems.append("root hash is not 64 hex digits")
        if not isinstance(row.signature, str) or not _HEX128.fullmatch(row.signature):
            problems.append("signature is not 128 hex digits")
        if not isinstance(row.key_id, str) or not _HEX16.fullmatch(row.key_id):
            problems.append("key id is not 16 hex digits")
        if not isinstance(row.tree_size, int) or row.tree_size < 0:
            problems.append(f"tree size {row.tree_size!r} is not a count")
        return cls(
            number=row.number,
            checkpoint=Checkpoint.model_construct(
                tree_size=row.tree_size,
                root_hash=row.root_hash,
                timestamp=timestamp,
                key_id=row.key_id,
            ),
            signature=_unhex(str(row.signature)),
            malformed="; ".join(problems) or None,
            note=getattr(row, "note", None),
        )


_HEX16 = re.compile(r"[0-9a-f]{16}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")


def _unhex(text: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError:
        return text.encode("utf-8", "replace")
