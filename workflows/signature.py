"""What a signature on a decision covers: the SHA-256 of the state being signed.

The state is the one the signer saw (before the decision): the pydantic JSON form of the
state (`ComplaintState`, or an improvement's `ImprovementState`) without its derived
fields, encoded as RFC 8785 canonical JSON, the one encoding everything hashed or signed in
Closeloop uses (the audit log's entries too). The state query shows the same `state_hash`,
so a person can sign exactly what they reviewed (`expected_state_hash`), and anyone holding
the state can recompute it in any language with an RFC 8785 library.

Versions, named in each decision's audit entry (`signature.state_encoding`):
- `rfc8785` (current): SHA-256 over the RFC 8785 encoding.
- entries without the field (before 2026-12): SHA-256 over Python's
  `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=False)`, which differs
  from RFC 8785 for some numbers and for key order outside the Basic Multilingual Plane.
"""

from __future__ import annotations

import hashlib
from collections.abc import Set

from pydantic import BaseModel

from audit.jcs import encode_bytes
from schemas.complaint_state import DERIVED_FIELDS, ComplaintState

STATE_ENCODING = "rfc8785"


def canonical(state: BaseModel, derived: Set[str]) -> bytes:
    return encode_bytes(state.model_dump(mode="json", exclude=set(derived)))


def canonical_state(state: ComplaintState) -> bytes:
    return canonical(state, DERIVED_FIELDS)


def state_hash(state: ComplaintState) -> str:
    return hashlib.sha256(canonical_state(state)).hexdigest()


def hash_of(state: BaseModel, derived: Set[str]) -> str:
    """The signed hash of any workflow state, given the fields derived when it is read."""
    return hashlib.sha256(canonical(state, derived)).hexdigest()
