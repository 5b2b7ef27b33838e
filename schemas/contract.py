"""Loading the JSON Schemas that define each topic's contract, and the models that mirror them.

Two details make our validator agree with the pydantic models and with validators in other
languages, which is what upstream teams will use:

- `pattern` is matched as ECMA-262 does: `$` at the end of a pattern means the end of the
  text (Python's `re` would also accept a trailing newline before it);
- `format: date-time` is checked (RFC 3339 with an offset), not only annotated.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from pydantic import TypeAdapter

# The text checks live in `schemas.formats` (no jsonschema import, so the models load fast);
# re-exported here, where the contract's readers expect them.
from schemas.formats import RFC3339 as RFC3339
from schemas.formats import UUID_TEXT as UUID_TEXT
from schemas.formats import compile_pattern as compile_pattern
from schemas.formats import is_rfc3339, matches
from schemas.formats import is_uuid_text as is_uuid_text

SCHEMA_DIR = Path(__file__).resolve().parent
SCHEMA_SUFFIX = ".schema.json"

# The Python model of each topic, as "module:attribute" (a BaseModel or a TypeAdapter), so
# `tests/schemas` can prove that the two agree without importing every model up front.
MODELS: dict[str, str] = {
    "complaints.received.v1": "schemas.events:ComplaintReceived",
    "complaints.updates.v1": "schemas.events:UPDATE_EVENT",
    "complaints.dlq.v1": "schemas.dead_letter:DeadLetter",
    "complaints.status.v1": "schemas.status_event:ComplaintStatusEvent",
    "audit.checkpoints.v1": "schemas.audit_checkpoint:AuditCheckpointEvent",
    "operations.shipments.v1": "schemas.shipment:ShipmentReported",
    "complaints.customer-messages.v1": "schemas.customer_message:CustomerMessage",
}
# A schema may name its model itself, which wins over the table above.
MODEL_KEYWORD = "x-python-model"
# Validation context for input judged against the contract (see schemas.events).
CONTRACT: dict[str, Any] = {"contract": True}


def schema_path(topic: str) -> Path:
    return SCHEMA_DIR / f"{topic}{SCHEMA_SUFFIX}"


def topics_with_schemas() -> list[str]:
    """Every topic that has a schema in this folder, whoever wrote it."""
    return sorted(p.name.removesuffix(SCHEMA_SUFFIX) for p in SCHEMA_DIR.glob(f"*{SCHEMA_SUFFIX}"))


@cache
def load_schema(topic: str) -> dict[str, Any]:
    with schema_path(topic).open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    Draft202012Validator.check_schema(schema)
    return schema


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and not matches(pattern, instance):
        yield ValidationError(f"does not match {pattern!r}")


_ContractValidator = validators.extend(Draft202012Validator, {"pattern": _pattern})

FORMAT_CHECKER = FormatChecker()
FORMAT_CHECKER.checks("date-time")(lambda value: not isinstance(value, str) or is_rfc3339(value))


@cache
def validator_for(topic: str) -> Draft202012Validator:
    """A validator that also checks `format` (uuid, date-time), which 2020-12 only annotates."""
    validator: Draft202012Validator = _ContractValidator(
        load_schema(topic), format_checker=FORMAT_CHECKER
    )
    return validator


@cache
def branch_validators(topic: str, discriminator: str = "event_type") -> dict[str, Any]:
    """For a schema that is a `oneOf` of `$ref`s each fixing `discriminator` with `const`:
    one validator per discriminator value, so an error names the field of *that* type.

    Empty for schemas without such a `oneOf`.
    """
    schema = load_schema(topic)
    defs = schema.get("$defs", {})
    branches: dict[str, Any] = {}
    for option in schema.get("oneOf", []):
        ref = option.get("$ref", "") if isinstance(option, dict) else ""
        if not ref.startswith("#/$defs/"):
            return {}
        branch = defs.get(ref.removeprefix("#/$defs/"), {})
        const = branch.get("properties", {}).get(discriminator, {}).get("const")
        if not isinstance(const, str):
            return {}
        wrapper = {"$schema": schema.get("$schema"), "$ref": ref, "$defs": defs}
        branches[const] = _ContractValidator(wrapper, format_checker=FORMAT_CHECKER)
    return branches


def examples_dir(topic: str) -> Path:
    return SCHEMA_DIR / "examples" / topic


def invalid_dir(topic: str) -> Path:
    """Documents that break the contract: each file is `{"why", "field", "document"}`, where
    `field` is what the decoder must name (see `invalid/README.md`)."""
    return SCHEMA_DIR / "invalid" / topic


def model_reference(topic: str) -> str | None:
    ref = load_schema(topic).get(MODEL_KEYWORD)
    return ref if isinstance(ref, str) else MODELS.get(topic)


def model_adapter(topic: str) -> TypeAdapter[Any]:
    """A TypeAdapter for the topic's Python model; LookupError when there is none yet."""
    ref = model_reference(topic)
    if ref is None:
        raise LookupError(f"no Python model registered for {topic} (see schemas.contract.MODELS)")
    module_name, _, attribute = ref.partition(":")
    try:
        target = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise LookupError(f"the model {ref} for {topic} cannot be imported: {exc}") from None
    return target if isinstance(target, TypeAdapter) else TypeAdapter(target)
