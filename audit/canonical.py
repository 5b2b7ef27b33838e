"""The canonical encoding every hash in the audit log is computed over.

Rule (documented in the README for third parties): an entry's hash input is the RFC 8785
JSON Canonicalization Scheme (JCS) encoding of the object

    {"seq", "complaint_id", "entry_type", "actor", "recorded_at", "occurred_at", "reason",
     "data", "idempotency_key", "prev_hash"}

with times as RFC 3339 UTC strings with exactly six fractional digits and a `Z`
(`2026-11-26T03:40:00.000000Z`), hashes as lower-case hex, and `data` as the JSON object
itself. `entry_hash = SHA-256(JCS bytes)`; `prev_hash` of the first entry is 64 zeros.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import rfc8785

GENESIS_HASH = "0" * 64
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

HASHED_FIELDS = (
    "seq",
    "complaint_id",
    "entry_type",
    "actor",
    "recorded_at",
    "occurred_at",
    "reason",
    "data",
    "idempotency_key",
    "prev_hash",
)


def format_time(value: datetime) -> str:
    """Fixed-width UTC text: sorts like time and reads back to the same microsecond."""
    if value.tzinfo is None:
        raise ValueError("audit times must carry a time zone")
    return value.astimezone(UTC).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of a JSON value (rejects NaN, infinities and non-JSON types)."""
    return rfc8785.dumps(value)


def canonical_entry_bytes(fields: dict[str, Any]) -> bytes:
    """The exact bytes that are hashed into the chain and into the Merkle tree's leaves."""
    missing = [name for name in HASHED_FIELDS if name not in fields]
    if missing:
        raise ValueError(f"entry lacks hashed fields: {', '.join(missing)}")
    return canonical_json({name: fields[name] for name in HASHED_FIELDS})


def entry_hash(fields: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_entry_bytes(fields)).hexdigest()
