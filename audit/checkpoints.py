"""Signed checkpoints as stored, published and exported.

One JSON shape serves all three (the `audit.checkpoints.v1` contract,
`schemas/audit.checkpoints.v1.schema.json`): the checkpoint's number, tree size, root,
timestamp, key id and the Ed25519 signature in hex. The signature covers the text in
`audit.signing` (format, size, root, timestamp); the number is not signed, which is why the
verifier also checks that checkpoint numbers have no gaps and sizes never shrink.
"""

from __future__ import annotations

from dataclasses import dataclass
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
        )

    def to_json(self) -> dict[str, Any]:
        return self.to_event().model_dump(mode="json")

    def to_row(self) -> dict[str, Any]:
        event = self.to_event()
        return event.model_dump(exclude={"format"})

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
        )

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> SignedCheckpoint:
        """From a published event or a `checkpoints.jsonl` line; raises `ValueError`."""
        return cls.from_event(AuditCheckpointEvent.model_validate(document))

    @classmethod
    def from_row(cls, row: Any) -> SignedCheckpoint:
        """From a stored row. A tampered row that no longer parses still loads, with its
        fields as they are, so the verifier can report it instead of crashing."""
        return cls(
            number=row.number,
            checkpoint=Checkpoint.model_construct(
                tree_size=row.tree_size,
                root_hash=row.root_hash,
                timestamp=parse_time(row.timestamp),
                key_id=row.key_id,
            ),
            signature=_unhex(row.signature),
        )


def _unhex(text: str) -> bytes:
    try:
        return bytes.fromhex(text)
    except ValueError:
        return text.encode("utf-8", "replace")
