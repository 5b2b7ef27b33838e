"""What goes into the audit log and what comes out of it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from audit.canonical import format_time


class NewEntry(BaseModel):
    """An entry to append. The idempotency key makes retries and replays harmless."""

    model_config = ConfigDict(frozen=True)

    complaint_id: str = Field(min_length=1, max_length=64)
    entry_type: str = Field(min_length=1, max_length=64)
    actor: str = Field(min_length=1, max_length=128)
    occurred_at: AwareDatetime
    reason: str = ""
    data: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str = Field(min_length=1, max_length=255)


class AuditEntry(BaseModel):
    """A stored entry, with its place in the chain."""

    model_config = ConfigDict(frozen=True)

    seq: int
    complaint_id: str
    entry_type: str
    actor: str
    recorded_at: datetime
    occurred_at: datetime
    reason: str
    data: dict[str, Any]
    idempotency_key: str
    prev_hash: str
    entry_hash: str

    def hashed_fields(self) -> dict[str, Any]:
        """The fields as they enter the canonical encoding (see `audit.canonical`)."""
        return {
            "seq": self.seq,
            "complaint_id": self.complaint_id,
            "entry_type": self.entry_type,
            "actor": self.actor,
            "recorded_at": format_time(self.recorded_at),
            "occurred_at": format_time(self.occurred_at),
            "reason": self.reason,
            "data": self.data,
            "idempotency_key": self.idempotency_key,
            "prev_hash": self.prev_hash,
        }
