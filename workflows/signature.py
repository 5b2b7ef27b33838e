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
  A hash a person reviewed in that encoding is still honoured (`accepted_hashes`), so a
  decision signed across an upgrade, and every saved history, means what it meant.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Set
from typing import Any

from pydantic import BaseModel

from audit.jcs import encode_bytes
from schemas.complaint_state import DERIVED_FIELDS, HASHED_WHEN_SET, ComplaintState

STATE_ENCODING = "rfc8785"

# Fields added after states were signed: left out while empty, so a state from before hashes
# as it did (saved histories replay, and a reviewed hash stays valid across an upgrade).
LATER_FIELDS = ("message_policy", "messages", "information_requests", *HASHED_WHEN_SET)


def _document(state: BaseModel, derived: Set[str], later: tuple[str, ...]) -> dict[str, Any]:
    document = state.model_dump(mode="json", exclude=set(derived))
    for name in later:
        if not document.get(name):
            document.pop(name, None)
    return document


def canonical(state: BaseModel, derived: Set[str], later: tuple[str, ...] = ()) -> bytes:
    return encode_bytes(_document(state, derived, later))


def canonical_state(state: ComplaintState) -> bytes:
    return canonical(state, DERIVED_FIELDS, LATER_FIELDS)


def state_hash(state: ComplaintState) -> str:
    return hashlib.sha256(canonical_state(state)).hexdigest()


def accepted_hashes(state: ComplaintState) -> set[str]:
    """Hashes a signer may have reviewed of this state: current and pre-RFC 8785 encoding."""
    legacy = json.dumps(
        _document(state, DERIVED_FIELDS, LATER_FIELDS),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()
    return {state_hash(state), hashlib.sha256(legacy).hexdigest()}


def hash_of(state: BaseModel, derived: Set[str]) -> str:
    """The signed hash of any workflow state, given the fields derived when it is read."""
    return hashlib.sha256(canonical(state, derived)).hexdigest()
