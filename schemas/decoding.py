"""Turning the bytes of a Kafka message into a validated event, or a reason why not.

Every rejection is an `InvalidEvent` naming the field and the reason, so a dead letter tells
the upstream team exactly what to fix. Nothing here raises anything else for bad input.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import jsonschema
from pydantic import ValidationError

from schemas import topics
from schemas.contract import validator_for
from schemas.events import ComplaintReceived

MAX_EVENT_BYTES = 256 * 1024


@dataclass(frozen=True)
class InvalidEvent(Exception):
    """Bad input: which field (a JSON path, or `$` for the whole message) and why."""

    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


def parse_json_object(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_EVENT_BYTES:
        raise InvalidEvent("$", f"event is {len(raw)} bytes, more than {MAX_EVENT_BYTES}")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidEvent("$", f"not UTF-8: {exc.reason} at byte {exc.start}") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidEvent(
            "$", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    except RecursionError:
        raise InvalidEvent("$", "not JSON: nested too deeply") from None
    if not isinstance(value, dict):
        raise InvalidEvent("$", f"expected a JSON object, got {type(value).__name__}")
    return value


def check_schema(topic: str, document: dict[str, Any]) -> None:
    """Raise InvalidEvent for the most relevant schema violation, if any."""
    errors = list(validator_for(topic).iter_errors(document))
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors)
    raise InvalidEvent(_json_path(error), _reason(error))


def decode_complaint_received(raw: bytes, key: bytes | None = None) -> ComplaintReceived:
    """Decode a `complaints.received.v1` message; the key, when given, must be the complaint id."""
    document = parse_json_object(raw)
    check_schema(topics.COMPLAINTS_RECEIVED, document)
    try:
        event = ComplaintReceived.model_validate(document)
    except ValidationError as exc:  # the model is stricter than the schema somewhere
        first = exc.errors()[0]
        field = "$." + ".".join(str(part) for part in first["loc"])
        raise InvalidEvent(field, first["msg"]) from None
    if key is not None and key != event.complaint_id.encode("utf-8"):
        raise InvalidEvent(
            "$.complaint_id",
            f"message key {key[:80]!r} does not match complaint_id {event.complaint_id!r}",
        )
    return event


def _json_path(error: jsonschema.ValidationError) -> str:
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    if error.validator == "required" and isinstance(error.message, str):
        missing = error.message.split("'")[1] if "'" in error.message else ""
        if missing:
            path += f".{missing}"
    return path


def _reason(error: jsonschema.ValidationError) -> str:
    """Say what is wrong without echoing the value: it may be personal data bound for logs."""
    rule, expected = error.validator, error.validator_value
    expected_list = expected if isinstance(expected, list) else [expected]
    if rule == "required":
        return "is required"
    if rule == "additionalProperties":
        return error.message  # names the unexpected fields, which are ours to name
    if rule == "enum":
        return f"must be one of {', '.join(map(str, expected_list))}"
    if rule == "const":
        return f"must be {expected!r}"
    if rule == "type":
        return f"must be of type {expected}"
    if rule == "pattern":
        return f"does not match the pattern {expected}"
    if rule == "format":
        return f"is not a valid {expected}"
    if rule in ("minLength", "maxLength"):
        bound = "at least" if rule == "minLength" else "at most"
        return f"must be {bound} {expected} characters long"
    if rule in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        return f"violates {rule} {expected}"
    return f"violates the schema rule {rule!r}"
