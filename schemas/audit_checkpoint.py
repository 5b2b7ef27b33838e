"""The Python model mirroring `audit.checkpoints.v1.schema.json`.

The same document is published to Kafka for witnesses, written to `checkpoints.jsonl` in
audit export bundles, and read back by verifiers; `tests/audit/test_checkpoint_schema.py`
proves the model and the JSON Schema accept and reject the same documents.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

CHECKPOINT_FORMAT = "closeloop-audit-checkpoint/v1"
# The fixed-width UTC text that `audit.canonical.format_time` writes and the signature covers.
TIMESTAMP_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$"


class AuditCheckpointEvent(BaseModel):
    """`audit.checkpoints.v1`: a signed Merkle root of the audit log. Message key: key_id."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    format: Literal["closeloop-audit-checkpoint/v1"] = "closeloop-audit-checkpoint/v1"
    number: int = Field(ge=1)
    tree_size: int = Field(ge=0)
    root_hash: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    # Kept as the exact text that was signed, not parsed into a datetime.
    timestamp: Annotated[str, StringConstraints(pattern=TIMESTAMP_PATTERN)]
    key_id: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
    signature: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{128}$")]
