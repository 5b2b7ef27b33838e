"""Turning the bytes of a Kafka message into a validated event, or a reason why not.

Every rejection is an `InvalidEvent` naming the field and the reason, so a dead letter tells
the upstream team exactly what to fix. Nothing here raises anything else for bad input
(`tests/schemas/test_decoding_properties.py` throws arbitrary bytes at it to prove it).
Reasons never echo the message's values: they may be personal data bound for logs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
from pydantic import ValidationError

from schemas import topics
from schemas.contract import CONTRACT, branch_validators, is_uuid_text, matches, validator_for
from schemas.events import UPDATE_EVENT, UPDATE_EVENT_TYPES, ComplaintReceived, UpdateEvent

MAX_EVENT_BYTES = 256 * 1024
# Our documents are at most four levels deep; anything much deeper is an attack or a bug,
# and would only cost recursion in the validators.
MAX_DEPTH = 32
COMPLAINT_ID_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"
JSON_CONTENT_TYPES = ("application/json", "application/json; charset=utf-8")

Headers = Mapping[str, bytes | None] | Iterable[tuple[str, bytes | None]] | None


@dataclass(eq=False)  # not frozen: Python sets __traceback__ and __cause__ on exceptions
class InvalidEvent(Exception):
    """Bad input: which field (a JSON path, `$` for the whole message, `key` or
    `header:NAME`) and why; the ids when they could be read, for the dead letter."""

    field: str
    reason: str
    event_id: str | None = None
    complaint_id: str | None = None

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """UTF-8 JSON text holding one object, no duplicate keys, no NaN, not too deep."""
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidEvent("$", f"event is {len(raw)} bytes, more than {MAX_EVENT_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidEvent("$", f"not UTF-8: {exc.reason} at byte {exc.start}") from None
    try:
        value = json.loads(
            text, object_pairs_hook=_object_without_duplicates, parse_constant=_no_constants
        )
    except json.JSONDecodeError as exc:
        raise InvalidEvent(
            "$", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise InvalidEvent("$", "not JSON: nested too deeply") from None
    except _NotJson as exc:
        raise InvalidEvent("$", f"not JSON: {exc}") from None
    except ValueError:  # e.g. an integer with more digits than Python converts
        raise InvalidEvent("$", "not JSON: a number is out of range") from None
    if not isinstance(value, dict):
        raise InvalidEvent("$", f"expected a JSON object, got {_json_type(value)}")
    _check_structure(value)
    return value


def check_schema(topic: str, document: dict[str, Any]) -> None:
    """Raise InvalidEvent for the most relevant schema violation, if any.

    For a topic whose events are told apart by `event_type`, an unknown type is reported as
    such, and a known type is checked against its own branch of the schema only, so the
    error names the field of that type rather than the `oneOf`.
    """
    ids = _peek_ids(document)
    branches = branch_validators(topic)
    validator = validator_for(topic)
    if branches:
        event_type = document.get("event_type")
        if "event_type" not in document:
            raise InvalidEvent("$.event_type", "is required", *ids)
        if not isinstance(event_type, str):
            raise InvalidEvent("$.event_type", "must be of type string", *ids)
        if event_type not in branches:
            raise InvalidEvent(
                "$.event_type",
                f"unknown event type; expected one of {', '.join(sorted(branches))}",
                *ids,
            )
        validator = branches[event_type]
    try:
        errors = list(validator.iter_errors(document))
    except RecursionError:
        raise InvalidEvent("$", "nested too deeply", *ids) from None
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors)
    raise InvalidEvent(_json_path(error), _reason(error, validator.schema), *ids)


def check_message(topic: str, key: bytes | None, headers: Headers, complaint_id: str) -> None:
    """The envelope rules: key = complaint id (UTF-8); optional headers must agree."""
    for name, value in _header_pairs(headers):
        lowered = name.lower()
        text = (value or b"").decode("utf-8", "replace").strip().lower()
        if lowered == "content-type" and text not in JSON_CONTENT_TYPES:
            raise InvalidEvent(
                f"header:{name}", "must be application/json", complaint_id=complaint_id
            )
        if lowered == "schema" and text != topic:
            raise InvalidEvent(
                f"header:{name}", f"must name this topic's schema, {topic}", None, complaint_id
            )
    if key is None:
        raise InvalidEvent("key", "is missing; it must be the complaint_id", None, complaint_id)
    if key != complaint_id.encode("utf-8"):
        raise InvalidEvent("key", "does not match complaint_id", None, complaint_id)


class _Unchecked:
    def __repr__(self) -> str:
        return "UNCHECKED"


UNCHECKED: Any = _Unchecked()
"""Default `key`: the document alone is decoded (files, tests). A Kafka message always
passes its key, and a missing key (None) is then refused."""


def decode_complaint_received(
    raw: bytes, key: bytes | None = UNCHECKED, headers: Headers = None
) -> ComplaintReceived:
    """Decode a `complaints.received.v1` message; its key must be the complaint id."""
    document = parse_json_object(raw)
    check_schema(topics.COMPLAINTS_RECEIVED, document)
    try:
        event = ComplaintReceived.model_validate(document, context=CONTRACT)
    except ValidationError as exc:  # the model is stricter than the schema somewhere
        raise _from_pydantic(exc, document) from None
    if key is not UNCHECKED:
        _with_ids(check_message, topics.COMPLAINTS_RECEIVED, key, headers, event)
    return event


def decode_update(
    raw: bytes, key: bytes | None = UNCHECKED, headers: Headers = None
) -> UpdateEvent:
    """Decode a `complaints.updates.v1` message; its key must be the complaint id."""
    document = parse_json_object(raw)
    check_schema(topics.COMPLAINTS_UPDATES, document)
    try:
        event = UPDATE_EVENT.validate_python(document, context=CONTRACT)
    except ValidationError as exc:
        raise _from_pydantic(exc, document) from None
    if key is not UNCHECKED:
        _with_ids(check_message, topics.COMPLAINTS_UPDATES, key, headers, event)
    return event


__all__ = [
    "MAX_EVENT_BYTES",
    "UNCHECKED",
    "UPDATE_EVENT_TYPES",
    "InvalidEvent",
    "check_message",
    "check_schema",
    "decode_complaint_received",
    "decode_update",
    "parse_json_object",
]


# --- helpers -----------------------------------------------------------------------------


class _NotJson(ValueError):
    pass


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Parsers disagree on which of two equal keys wins; refuse to guess.
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _NotJson("an object has the same key twice")
        result[key] = value
    return result


def _no_constants(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON value")


def _check_structure(value: Any) -> None:
    """Not deeper than MAX_DEPTH, and no lone surrogates (`"\\ud800"` is valid JSON syntax
    but not Unicode text: I-JSON, RFC 7493, forbids it, and it cannot be stored or logged)."""
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if level > MAX_DEPTH:
            raise InvalidEvent("$", f"nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, dict):
            for key, child in item.items():
                _check_text(key)
                stack.append((child, level + 1))
        elif isinstance(item, list):
            stack.extend((child, level + 1) for child in item)
        elif isinstance(item, str):
            _check_text(item)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidEvent("$", "not Unicode text: a string has a lone surrogate escape") from None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else type(value).__name__


def _peek_ids(document: dict[str, Any]) -> tuple[str | None, str | None]:
    """The event and complaint ids, only when they are well-formed (never arbitrary text)."""
    event_id = document.get("event_id")
    complaint_id = document.get("complaint_id")
    return (
        event_id if isinstance(event_id, str) and is_uuid_text(event_id) else None,
        complaint_id
        if isinstance(complaint_id, str) and matches(COMPLAINT_ID_PATTERN, complaint_id)
        else None,
    )


def _with_ids(check: Any, topic: str, key: bytes | None, headers: Headers, event: Any) -> None:
    try:
        check(topic, key, headers, event.complaint_id)
    except InvalidEvent as invalid:
        raise InvalidEvent(
            invalid.field, invalid.reason, str(event.event_id), event.complaint_id
        ) from None


def _header_pairs(headers: Headers) -> list[tuple[str, bytes | None]]:
    if not headers:
        return []
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    return [(str(name), value) for name, value in pairs]


def _from_pydantic(exc: ValidationError, document: dict[str, Any]) -> InvalidEvent:
    first = exc.errors(include_input=False, include_url=False)[0]
    path = "$"
    for part in first["loc"]:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return InvalidEvent(path, _safe(str(first["msg"])), *_peek_ids(document))


def _json_path(error: jsonschema.ValidationError) -> str:
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{_safe(str(part), 100)}"
    if error.validator == "required" and isinstance(error.message, str):
        missing = error.message.split("'")[1] if "'" in error.message else ""
        if missing:
            path += f".{_safe(missing, 100)}"
    return path


def _reason(error: jsonschema.ValidationError, root: Any) -> str:
    """Say what is wrong without echoing the value: it may be personal data bound for logs."""
    rule, expected = error.validator, error.validator_value
    expected_list: list[Any] = expected if isinstance(expected, list) else [expected]
    if rule == "required":
        return "is required"
    if rule in ("additionalProperties", "unevaluatedProperties"):
        instance = error.instance if isinstance(error.instance, dict) else {}
        allowed = _declared(error.schema, root)
        names = [name for name in instance if name not in allowed]
        listed = ", ".join(_safe(name, 40) for name in names[:5])
        return _safe(f"unexpected field(s) not in the contract: {listed}", 300)
    if rule == "enum":
        return f"must be one of {', '.join(map(str, expected_list))}"
    if rule == "const":
        return f"must be {expected!r}"
    if rule == "type":
        return f"must be of type {expected}"
    if rule == "pattern":
        if expected == r"\S":
            return "must not be blank"
        return f"does not match the pattern {expected}"
    if rule == "format":
        return f"is not a valid {expected}"
    if rule in ("minLength", "maxLength"):
        bound = "at least" if rule == "minLength" else "at most"
        return f"must be {bound} {expected} characters long"
    if rule in ("minItems", "maxItems"):
        bound = "at least" if rule == "minItems" else "at most"
        return f"must have {bound} {expected} items"
    if rule in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"violates {rule} {expected}"
    if rule == "anyOf" and all(
        isinstance(option, dict) and set(option) == {"required"} for option in expected_list
    ):
        names = [name for option in expected_list for name in option["required"]]
        return f"needs at least one of {', '.join(names)}"
    if rule == "oneOf":
        return "matches none of the allowed forms"
    return f"violates the schema rule {rule!r}"


def _declared(schema: Any, root: Any, depth: int = 0) -> set[str]:
    """Property names a schema declares, through local `$ref`s (as unevaluatedProperties
    counts them)."""
    if not isinstance(schema, dict) or depth > 5:
        return set()
    names = set(schema.get("properties", {}))
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and isinstance(root, dict):
        target = root.get("$defs", {}).get(ref.removeprefix("#/$defs/"))
        names |= _declared(target, root, depth + 1)
    return names


def _safe(text: str, limit: int = 500) -> str:
    """Printable, valid UTF-8 (no lone surrogates from JSON escapes) and bounded."""
    cleaned = text.encode("utf-8", "backslashreplace").decode("utf-8")
    cleaned = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in cleaned)
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"
