"""`complaints.dlq.v1`: input we could not accept, kept whole so nothing is lost."""

from __future__ import annotations

import base64

from pydantic import AwareDatetime, BaseModel, ConfigDict


class DeadLetter(BaseModel):
    """A rejected message with the reason, where it came from and its original bytes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: str
    field: str
    source_topic: str
    partition: int
    offset: int
    key_base64: str | None
    value_base64: str
    dead_lettered_at: AwareDatetime
    event_id: str | None = None
    complaint_id: str | None = None

    @staticmethod
    def encode_bytes(raw: bytes | None) -> str | None:
        return None if raw is None else base64.b64encode(raw).decode("ascii")

    def original_value(self) -> bytes:
        return base64.b64decode(self.value_base64)

    def original_key(self) -> bytes | None:
        return None if self.key_base64 is None else base64.b64decode(self.key_base64)

    def describe(self) -> str:
        return f"{self.source_topic}[{self.partition}]@{self.offset}: {self.field}: {self.reason}"
