"""Text checks shared by the JSON Schema contract and the pydantic models that mirror it.

Plain regular expressions and `datetime`, nothing else: the models (and every command that
loads them, such as `closeloop complaint`) must not pay for importing jsonschema.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache

RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
UUID_TEXT = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", re.ASCII
)


@cache
def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A JSON Schema pattern as ECMA-262 reads it: a final `$` is the end of the text."""
    if pattern.endswith("$") and not pattern.endswith("\\$"):
        pattern = pattern[:-1] + r"\Z"
    return re.compile(pattern)


def matches(pattern: str, text: str) -> bool:
    return compile_pattern(pattern).search(text) is not None


def is_rfc3339(text: str) -> bool:
    """RFC 3339 date-time with an offset that is also a real date and time."""
    if not RFC3339.fullmatch(text):
        return False
    try:
        datetime.fromisoformat(text.replace("z", "Z").replace("t", "T"))
    except ValueError:
        return False
    return True


def is_uuid_text(text: str) -> bool:
    return UUID_TEXT.fullmatch(text) is not None
