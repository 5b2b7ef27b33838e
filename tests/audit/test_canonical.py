"""The canonical encoding a third party recomputes every hash from.

Three encoders must agree byte for byte on every value we store: the `rfc8785` library
(used when appending), our fast encoder (used when verifying) and the standalone
verifier's own (used by auditors). Generated data covers unicode beyond the BMP, control
characters, floats of every magnitude and nesting.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import canonical, jcs
from audit.models import AuditEntry
from audit.store import AuditLog
from tests.audit.conftest import load_standalone, new_entry

standalone = load_standalone()

SAFE_INT = 2**53 - 1
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-SAFE_INT, max_value=SAFE_INT)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=600, deadline=None)
@given(json_values)
def test_fast_and_standalone_encoders_match_rfc8785(value: Any) -> None:
    expected = rfc8785.dumps(value)
    assert jcs.encode_bytes(value) == expected
    assert standalone.jcs(value).encode("utf-8") == expected


@settings(max_examples=600, deadline=None)
@given(json_values, st.booleans(), st.booleans())
def test_canonical_text_of_stored_json_matches_rfc8785(
    value: Any, ascii_only: bool, spaced: bool
) -> None:
    """Whatever form the JSON text takes (escaped, spaced), its canonical form is the same."""
    separators = (", ", ": ") if spaced else (",", ":")
    text = json.dumps(value, ensure_ascii=ascii_only, separators=separators)
    assert jcs.canonical_text(text) == rfc8785.dumps(value).decode()


@settings(max_examples=2000, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_are_formatted_as_ecmascript_does(number: float) -> None:
    expected = rfc8785.dumps(number).decode()
    assert jcs.format_number(number) == expected
    assert standalone.jcs(number) == expected


@pytest.mark.parametrize(
    ("number", "text"),
    [
        # RFC 8785 appendix B and its edge cases.
        (0.0, "0"), (-0.0, "0"), (1.0, "1"), (-1.5, "-1.5"), (1e21, "1e+21"),
        (1e20, "100000000000000000000"), (1e-7, "1e-7"), (1e-6, "0.000001"),
        (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"),
        (9007199254740992.0, "9007199254740992"), (333333333.3333333, "333333333.3333333"),
        (123456789012345680000.0, "123456789012345680000"), (4.35, "4.35"), (0.1, "0.1"),
    ],
)  # fmt: skip
def test_number_formatting_edge_cases(number: float, text: str) -> None:
    assert jcs.format_number(number) == text
    assert standalone.jcs(number) == text


def test_keys_sort_by_utf16_code_units_not_code_points() -> None:
    # U+1F600 (a surrogate pair, D83D DE00) sorts before U+FB01 in UTF-16, after it by code point.
    value = {"\ufb01": 1, "\U0001f600": 2, "a": 3, "\u00e9": 4}
    assert jcs.encode(value) == '{"a":3,"é":4,"😀":2,"ﬁ":1}'
    assert standalone.jcs(value) == jcs.encode(value) == rfc8785.dumps(value).decode()


@pytest.mark.parametrize(
    "value", [math.nan, math.inf, 2**53, -(2**53), "\ud800", {1: "x"}, b"bytes"], ids=repr
)
def test_values_json_cannot_hold_exactly_are_refused(value: Any) -> None:
    with pytest.raises(ValueError):
        jcs.encode_bytes(value)


@settings(max_examples=300, deadline=None)
@given(
    st.text(min_size=1, max_size=30),
    st.text(max_size=60),
    st.dictionaries(st.text(max_size=8), json_values, max_size=4),
    st.integers(min_value=1, max_value=SAFE_INT),
)
def test_fast_entry_bytes_equal_the_documented_encoding(
    actor: str, reason: str, data: dict[str, Any], seq: int
) -> None:
    fields: dict[str, Any] = {
        "seq": seq,
        "complaint_id": "CMP-1",
        "entry_type": "complaint.triaged",
        "actor": actor,
        "recorded_at": "2026-03-02T08:30:00.000000Z",
        "occurred_at": "2026-03-02T08:29:59.123456Z",
        "reason": reason,
        "data": data,
        "idempotency_key": "wf/1",
        "prev_hash": "ab" * 32,
    }
    expected = canonical.canonical_entry_bytes(fields)
    assert canonical.fast_entry_bytes(**fields) == expected
    assert standalone.jcs(fields).encode("utf-8") == expected
    assert standalone.entry_hash(fields) == hashlib.sha256(expected).hexdigest()
    # The standalone's fast path, as it reads an entries.jsonl line.
    line = json.dumps({**fields, "entry_hash": "00" * 32}, ensure_ascii=False)
    entry, simple = standalone.read_entry(line)
    assert standalone.entry_hash(entry, simple=simple) == hashlib.sha256(expected).hexdigest()


def test_a_third_party_recomputes_an_entry_hash_from_the_documented_rule(
    stored_entry: AuditEntry,
) -> None:
    """What the README tells auditors, done with nothing but hashlib and rfc8785."""
    entry = stored_entry
    document = json.loads(entry.model_dump_json())
    document["recorded_at"] = canonical.format_time(entry.recorded_at)
    document["occurred_at"] = canonical.format_time(entry.occurred_at)
    hashed = {name: document[name] for name in canonical.HASHED_FIELDS}
    assert hashlib.sha256(rfc8785.dumps(hashed)).hexdigest() == entry.entry_hash


@pytest.fixture
def stored_entry(sqlite_url: str) -> AuditEntry:
    log = AuditLog.from_url(sqlite_url)
    log.append(new_entry(0))
    entry = log.append(new_entry(3))
    log.dispose()
    return entry
