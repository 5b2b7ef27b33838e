"""`complaints.dlq.v1`: input we could not accept, kept whole so nothing is lost."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints

from schemas.events import Pattern, RfcDateTime, SchemaInt

Base64 = Annotated[
    str, Pattern(r"^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$")
]

# A dead letter must fit in one Kafka message (1 MiB by default), base64 and all. Anything
# larger keeps its first bytes and says so; events that big are refused long before that.
MAX_KEPT_VALUE_BYTES = 600 * 1024


class DeadLetterKind(StrEnum):
    INVALID = "invalid"  # breaks the contract: the producer must fix it
    REFUSED = "refused"  # the workflow refused it: reason from the workflow
    UNKNOWN_COMPLAINT = "unknown_complaint"  # no complaint with that id (yet)
    CONFLICT = "conflict"  # its event_id was already applied with other content
    INTERNAL = "internal"  # our bug: replay once fixed


class Header(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: Annotated[str, StringConstraints(max_length=1000)]
    value_base64: Base64 | None


class DeadLetter(BaseModel):
    """A rejected message with the reason, where it came from and its original bytes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: DeadLetterKind
    reason: Annotated[str, StringConstraints(min_length=1, max_length=2000)]
    field: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    source_topic: Annotated[str, StringConstraints(min_length=1, max_length=249)]
    partition: Annotated[SchemaInt, Field(ge=0)]
    offset: Annotated[SchemaInt, Field(ge=0)]
    key_base64: Base64 | None
    value_base64: Base64
    value_size: Annotated[SchemaInt, Field(ge=0)]
    value_truncated: StrictBool
    headers: Annotated[list[Header], Field(max_length=100)]
    event_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None
    complaint_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None
    dead_lettered_at: RfcDateTime

    @staticmethod
    def encode_bytes(raw: bytes | None) -> str | None:
        return None if raw is None else base64.b64encode(raw).decode("ascii")

    @staticmethod
    def encode_headers(
        headers: Mapping[str, bytes | None] | Iterable[tuple[str, bytes | None]] | None,
    ) -> list[Header]:
        pairs = headers.items() if isinstance(headers, Mapping) else (headers or [])
        return [
            Header(key=str(key)[:1000], value_base64=DeadLetter.encode_bytes(value))
            for key, value in list(pairs)[:100]
        ]

    def original_value(self) -> bytes:
        return base64.b64decode(self.value_base64)

    def original_key(self) -> bytes | None:
        return None if self.key_base64 is None else base64.b64decode(self.key_base64)

    def original_headers(self) -> list[tuple[str, bytes]]:
        return [
            (h.key, b"" if h.value_base64 is None else base64.b64decode(h.value_base64))
            for h in self.headers
        ]

    @property
    def source(self) -> str:
        """`topic/partition/offset`: where the original message is, as replay headers name it."""
        return f"{self.source_topic}/{self.partition}/{self.offset}"

    def describe(self) -> str:
        return f"{self.source_topic}[{self.partition}]@{self.offset}: {self.field}: {self.reason}"
