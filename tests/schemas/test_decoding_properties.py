"""Arbitrary bytes and near-valid JSON thrown at the decoders: every input is either
accepted as a valid event or rejected with an InvalidEvent naming a field and a reason, and
nothing else ever escapes. Reasons never repeat the input's values."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import topics
from schemas.contract import CONTRACT, model_adapter, validator_for
from schemas.decoding import InvalidEvent, decode_complaint_received, decode_update
from tests.schemas.mutations import SECRET, arbitrary_bytes, examples, near_valid_bytes

DECODERS: dict[str, Callable[..., Any]] = {
    topics.COMPLAINTS_RECEIVED: decode_complaint_received,
    topics.COMPLAINTS_UPDATES: decode_update,
}
FUZZ = settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def verdict(topic: str, raw: bytes, key: bytes | None) -> Any:
    """Decode; return the event or the InvalidEvent. Anything else propagates and fails."""
    try:
        return DECODERS[topic](raw, key)
    except InvalidEvent as invalid:
        assert invalid.field and invalid.reason, invalid
        assert SECRET not in invalid.reason and SECRET not in invalid.field
        invalid.reason.encode("utf-8")  # always valid text, ready for a dead letter
        return invalid


@pytest.mark.parametrize("topic", list(DECODERS))
@FUZZ
@given(raw=arbitrary_bytes, key=st.none() | st.binary(max_size=70))
def test_arbitrary_bytes_are_rejected_with_a_reason(topic: str, raw: bytes, key: bytes | None):
    assert isinstance(verdict(topic, raw, key), InvalidEvent)


@pytest.mark.parametrize("topic", list(DECODERS))
@FUZZ
@given(data=st.data())
def test_near_valid_json_is_accepted_only_when_the_contract_accepts_it(topic, data):
    raw = data.draw(near_valid_bytes(topic))
    key = None
    try:
        document = json.loads(raw)
        if isinstance(document, dict) and isinstance(document.get("complaint_id"), str):
            key = document["complaint_id"].encode("utf-8", "surrogatepass")
    except ValueError:
        document = None
    result = verdict(topic, raw, key)
    if not isinstance(result, InvalidEvent):
        assert validator_for(topic).is_valid(document)
        model_adapter(topic).validate_json(raw, context=CONTRACT)
        assert result.complaint_id.encode() == key


@pytest.mark.parametrize("topic", list(DECODERS))
def test_every_example_decodes_with_its_key(topic: str) -> None:
    for document in examples(topic):
        raw = json.dumps(document).encode()
        event = DECODERS[topic](raw, document["complaint_id"].encode())
        assert str(event.event_id) == document["event_id"]


@pytest.mark.parametrize("topic", list(DECODERS))
@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (None, "is missing; it must be the complaint_id"),
        (b"OTHER-1", "does not match complaint_id"),
    ],
)
def test_the_key_must_be_the_complaint_id(topic: str, key: bytes | None, reason: str) -> None:
    document = examples(topic)[0]
    with pytest.raises(InvalidEvent) as rejected:
        DECODERS[topic](json.dumps(document).encode(), key)
    assert (rejected.value.field, rejected.value.reason) == ("key", reason)
    assert rejected.value.event_id == document["event_id"]  # the dead letter can name it


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        ([("content-type", b"text/plain")], "header:content-type"),
        ([("schema", b"complaints.received.v1")], "header:schema"),
    ],
)
def test_contract_headers_must_agree_when_present(headers, field) -> None:
    document = examples(topics.COMPLAINTS_UPDATES)[0]
    with pytest.raises(InvalidEvent) as rejected:
        decode_update(json.dumps(document).encode(), document["complaint_id"].encode(), headers)
    assert rejected.value.field == field
    ok = [("content-type", b"application/json"), ("schema", b"complaints.updates.v1")]
    decode_update(json.dumps(document).encode(), document["complaint_id"].encode(), ok)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"x" * (256 * 1024 + 1), "event is 262145 bytes, more than 262144"),
        (b"\xff{}", "not UTF-8: invalid start byte at byte 0"),
        (b'{"a": 1, "a": 2}', "not JSON: an object has the same key twice"),
        (b'{"a": NaN}', "not JSON: NaN is not a JSON value"),
        (b'{"a": "\\ud800"}', "not Unicode text: a string has a lone surrogate escape"),
        (b"[" * 40 + b"]" * 40, "expected a JSON object, got array"),
        (b'{"a":' * 40 + b"1" + b"}" * 40, "nested more than 32 levels deep"),
        (b'{"event_type": "complaint.reopened"}', None),
    ],
)
def test_whole_message_problems_name_the_whole_message(raw: bytes, reason: str | None) -> None:
    with pytest.raises(InvalidEvent) as rejected:
        decode_update(raw, b"C-1")
    if reason is not None:
        assert (rejected.value.field, rejected.value.reason) == ("$", reason)
    else:
        assert rejected.value.field == "$.event_type"
        assert rejected.value.reason.startswith("unknown event type")
