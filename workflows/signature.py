"""What a signature on a decision covers: the SHA-256 of the complaint state being signed.

The state is the one the signer saw (before the decision), encoded as canonical JSON: the
pydantic JSON form of `ComplaintState` without its derived fields, keys sorted, no spaces.
The `current_state` query shows the same `state_hash`, so a person can sign exactly what
they reviewed (`expected_state_hash`), and anyone holding the state can recompute it.
"""

from __future__ import annotations

import hashlib
import json

from schemas.complaint_state import DERIVED_FIELDS, HASHED_WHEN_SET, ComplaintState


def canonical_state(state: ComplaintState) -> bytes:
    document = state.model_dump(mode="json", exclude=set(DERIVED_FIELDS))
    for name in HASHED_WHEN_SET:
        if not document.get(name):
            document.pop(name, None)
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def state_hash(state: ComplaintState) -> str:
    return hashlib.sha256(canonical_state(state)).hexdigest()
