"""The verifier's hot loop: recompute the hashes of rows that need no explanation, fast.

Verification recomputes every entry. Almost every row is intact, and for an intact row the
verifier only has to learn that it is (its data is its own RFC 8785 text, its hash is
SHA-256 of its fields, it links to the row before) and its Merkle leaf. This module does
exactly that, inline and without a function call per check, and hands every row that is
*not* plainly intact, in full, to `audit.verify`, whose rules explain what is wrong. So the
fast path decides nothing on its own: a row it accepts is one the full rules would accept
too (same canonical test, same hash input), anything else takes the full rules.

Equivalence with the full rules (`tests/audit/test_entry_scan.py` checks it on generated
and hostile rows):

- canonical data: `audit.jcs.canonical_text` equals the stored text. Here the text is
  decoded by the standard library's C scanner with the same float and constant rules as
  `jcs` (no integral floats, 1e-4 <= |x| < 1e16, no NaN), integers within +-(2**53 - 1),
  no `\\u` escapes and no character outside the Basic Multilingual Plane, and re-encoded by
  the C encoder with sorted keys. Under those conditions that encoder writes RFC 8785
  (`audit.jcs`), so equality with the stored text is the full rule's verdict.
- the hash input is `audit.canonical.fast_entry_bytes(..., exact_data_text=data)`, written
  out in the loop with the same template.

A row goes to the full rules when any of that does not hold, when it does not follow the
row before (seq + 1, prev_hash = its hash), or when anything raises (a value that is not
text, say).
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from audit import jcs

Row = tuple[Any, ...]
"""seq, complaint_id, entry_type, actor, recorded_at, occurred_at, reason, data,
idempotency_key, prev_hash, entry_hash: the stored columns, in `verify`'s order."""

_BMP_END = "\U00010000"


@dataclass(frozen=True)
class Run:
    """Consecutive rows that are plainly intact and linked to each other.

    Whether `first` follows the row before the run is for the caller to check: a run may
    start a batch or a worker's share of the log.
    """

    first: Row
    count: int
    last_prev_hash: str  # prev_hash of the run's last row
    last_hash: str  # entry_hash of the run's last row
    leaves: list[bytes]  # the RFC 9162 leaf hash of each row, in order


Segment = Run | Row
"""A `Run`, or one row (a plain tuple) for the full rules."""


class _NotSimple(Exception):
    pass


def _simple_int(text: str) -> int:
    value = int(text)
    if len(text) > 15 and not -jcs.MAX_SAFE_INTEGER <= value <= jcs.MAX_SAFE_INTEGER:
        raise _NotSimple
    return value


def _simple_float(text: str) -> float:
    value = float(text)
    if value.is_integer() or not 1e-4 <= abs(value) < 1e16:
        raise _NotSimple
    return value


def _not_simple(_text: str) -> Any:
    raise _NotSimple


_DECODER = json.JSONDecoder(
    parse_float=_simple_float, parse_int=_simple_int, parse_constant=_not_simple
)
_SCAN = _DECODER.scan_once  # type: ignore[attr-defined]  # the C scanner, without decode()
# The C encoder itself (what JSONEncoder.encode ends in), without the Python layers on top:
# markers None (decoded JSON has no cycles), sorted keys, no spaces, no ASCII escaping.
_ENCODE = json.encoder.c_make_encoder(  # type: ignore[attr-defined]
    None, None, jcs.encode_basestring, None, ":", ",", True, False, False
)


def scan(rows: Sequence[Row]) -> list[Segment]:
    """Split `rows` (consecutive stored rows, ascending seq) into runs and rows to explain."""
    segments: list[Segment] = []
    sha256 = hashlib.sha256
    s = jcs.encode_basestring
    decode, encode = _SCAN, _ENCODE
    max_seq = jcs.MAX_SAFE_INTEGER
    first: Row | None = None
    leaves: list[bytes] = []
    count = 0
    expected_seq, last_hash, last_prev = 0, "", ""
    for row in rows:
        try:
            (seq, complaint_id, entry_type, actor, recorded_at, occurred_at, reason, data,
             idempotency_key, prev_hash, stored_hash) = row  # fmt: skip
            if (
                not 0 < seq <= max_seq
                or "\\u" in data
                or not (data.isascii() or max(data) < _BMP_END)
            ):
                raise _NotSimple
            value, end = decode(data, 0)
            if end != len(data) or "".join(encode(value, 0)) != data:
                raise _NotSimple
            digest = sha256(
                f'{{"actor":{s(actor)},"complaint_id":{s(complaint_id)},"data":{data},'
                f'"entry_type":{s(entry_type)},"idempotency_key":{s(idempotency_key)},'
                f'"occurred_at":{s(occurred_at)},"prev_hash":{s(prev_hash)},'
                f'"reason":{s(reason)},"recorded_at":{s(recorded_at)},"seq":{seq}}}'.encode()
            ).digest()
            if digest.hex() != stored_hash:
                raise _NotSimple
        except (_NotSimple, ValueError, TypeError, StopIteration, RecursionError):
            if first is not None:
                segments.append(Run(first, count, last_prev, last_hash, leaves))
                first, leaves, count = None, [], 0
            segments.append(tuple(row))
            continue
        if first is not None and (seq != expected_seq or prev_hash != last_hash):
            segments.append(Run(first, count, last_prev, last_hash, leaves))
            first, leaves, count = None, [], 0
        if first is None:
            first = tuple(row)
        leaves.append(sha256(b"\x00" + digest).digest())
        count += 1
        expected_seq, last_hash, last_prev = seq + 1, stored_hash, prev_hash
    if first is not None:
        segments.append(Run(first, count, last_prev, last_hash, leaves))
    return segments
