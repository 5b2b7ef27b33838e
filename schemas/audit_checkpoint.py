"""The Python model mirroring `audit.checkpoints.v1.schema.json`.

The same document is published to Kafka for witnesses, written to `checkpoints.jsonl` in
audit export bundles, and read back by verifiers; `tests/audit/test_checkpoint_schema.py`
proves the model and the JSON Schema accept and reject the same documents.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from schemas.events import SchemaInt, is_contract_input

NOTE_MAX_LENGTH = 8192
CHECKPOINT_FORMAT = "closeloop-audit-checkpoint/v1"
# The fixed-width UTC text that `audit.canonical.format_time` writes and the signature covers.
TIMESTAMP_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$"


class AuditCheckpointEvent(BaseModel):
    """`audit.checkpoints.v1`: a signed Merkle root of the audit log. Message key: key_id."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    format: Literal["closeloop-audit-checkpoint/v1"] = "closeloop-audit-checkpoint/v1"
    number: SchemaInt = Field(ge=1)
    tree_size: SchemaInt = Field(ge=0)
    root_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    # Kept as the exact text that was signed, not parsed into a datetime.
    timestamp: Annotated[str, StringConstraints(pattern=TIMESTAMP_PATTERN)]
    key_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
    signature: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{128}$")]
    # The same checkpoint as a C2SP tlog-checkpoint signed note; absent on checkpoints made
    # before notes existed (optional, so v1 consumers and old bundles stay valid).
    note: Annotated[str, StringConstraints(min_length=1, max_length=NOTE_MAX_LENGTH)] | None = None

    @field_validator("note", mode="before")
    @classmethod
    def _note_is_text_when_present(cls, value: Any, info: ValidationInfo) -> Any:
        """Absent means "made before notes"; on the wire it is never an explicit null."""
        if value is None and is_contract_input(info):
            raise ValueError("note, when present, is the signed note text")
        return value

    @model_validator(mode="before")
    @classmethod
    def _format_is_required_on_the_wire(cls, data: Any, info: ValidationInfo) -> Any:
        """The schema requires `format`; our own code may rely on the default."""
        if is_contract_input(info) and isinstance(data, dict) and "format" not in data:
            raise ValueError("format is required")
        return data
