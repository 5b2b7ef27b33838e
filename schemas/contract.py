"""Loading the JSON Schemas that define each topic's contract."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SCHEMA_DIR = Path(__file__).resolve().parent


def schema_path(topic: str) -> Path:
    return SCHEMA_DIR / f"{topic}.schema.json"


@cache
def load_schema(topic: str) -> dict[str, Any]:
    with schema_path(topic).open(encoding="utf-8") as handle:
        schema: dict[str, Any] = json.load(handle)
    Draft202012Validator.check_schema(schema)
    return schema


@cache
def validator_for(topic: str) -> Draft202012Validator:
    """A validator that also checks `format` (uuid, date-time), which 2020-12 only annotates."""
    return Draft202012Validator(load_schema(topic), format_checker=FormatChecker())


def examples_dir(topic: str) -> Path:
    return SCHEMA_DIR / "examples" / topic
