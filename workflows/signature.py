"""What a signature on a decision covers: the SHA-256 of the state being signed.

The state is the one the signer saw (before the decision), encoded as canonical JSON: the
pydantic JSON form of the state (`ComplaintState`, or an improvement's `ImprovementState`)
without its derived fields, keys sorted, no spaces. The state query shows the same
`state_hash`, so a person can sign exactly what they reviewed (`expected_state_hash`), and
anyone holding the state can recompute it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Set

from pydantic import BaseModel

from schemas.complaint_state import DERIVED_FIELDS, ComplaintState


def canonical(state: BaseModel, derived: Set[str]) -> bytes:
    document = state.model_dump(mode="json", exclude=set(derived))
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def canonical_state(state: ComplaintState) -> bytes:
    return canonical(state, DERIVED_FIELDS)


def state_hash(state: ComplaintState) -> str:
    return hashlib.sha256(canonical_state(state)).hexdigest()


def hash_of(state: BaseModel, derived: Set[str]) -> str:
    """The signed hash of any workflow state, given the fields derived when it is read."""
    return hashlib.sha256(canonical(state, derived)).hexdigest()
