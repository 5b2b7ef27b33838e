"""A fast RFC 8785 (JSON Canonicalization Scheme) encoder for verification.

Appends encode with the `rfc8785` library (`audit.canonical.canonical_json`); verification
re-encodes every entry, and that library, written for clarity, runs at about 10,000 entries
a second. This encoder does the same job about four times faster by leaning on the C string
escaper in the standard `json` module, whose escaping rules are exactly RFC 8785 §3.2.2.2
(`"`, `\\`, the short forms `\\b \\f \\n \\r \\t`, other controls as lower-case `\\u00xx`,
everything else as literal UTF-8). Two independent encoders agreeing is itself a check:
`tests/audit/test_canonical.py` compares them on generated data.

Accepts what JSON parsing gives: dict (string keys), list, str, int, float, bool, None.
Integers must lie in the IEEE 754 exact range (|n| <= 2**53 - 1), floats must be finite;
anything else raises `ValueError`, as RFC 8785 requires.
"""

from __future__ import annotations

import json
import math
import re
from json.encoder import encode_basestring
from typing import Any

MAX_SAFE_INTEGER = 2**53 - 1
_TWO_53 = float(2**53)


def _key_order(item: tuple[str, Any]) -> bytes:
    # RFC 8785 §3.2.3: property names sorted by their UTF-16 code units.
    return item[0].encode("utf-16-be", "surrogatepass")


def format_number(value: float) -> str:
    """ECMAScript `Number.prototype.toString` (RFC 8785 §3.2.2.3) of a finite double."""
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{value} is not allowed in canonical JSON")
    if value.is_integer() and abs(value) < _TWO_53:
        return str(int(value))  # also turns -0.0 into "0"
    sign = "-" if value < 0 else ""
    # repr gives the shortest digits that round-trip, which is what ECMAScript uses too;
    # only the layout (where the point goes, when to use an exponent) differs.
    mantissa, _, exp = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    exponent = int(exp) if exp else 0
    if whole == "0":  # 0.000123 -> digits "123", point 3 places left of them
        digits = fraction.lstrip("0")
        point = exponent - (len(fraction) - len(digits))
    else:
        digits = whole + fraction
        point = exponent + len(whole)
    digits = digits.rstrip("0") or "0"
    count = len(digits)
    if count <= point <= 21:
        return sign + digits + "0" * (point - count)
    if 0 < point <= 21:
        return sign + digits[:point] + "." + digits[point:]
    if -6 < point <= 0:
        return sign + "0." + "0" * -point + digits
    shown = point - 1
    tail = "." + digits[1:] if count > 1 else ""
    return f"{sign}{digits[0]}{tail}e{'+' if shown > 0 else '-'}{abs(shown)}"


def encode(value: Any) -> str:
    """The RFC 8785 text of `value` (encode to UTF-8 for the canonical bytes)."""
    kind = type(value)
    if kind is str:
        return encode_basestring(value)
    if kind is dict:
        if not value:
            return "{}"
        try:
            members = sorted(value.items(), key=_key_order)
        except AttributeError:
            raise ValueError("object keys must be strings") from None
        return "{" + ",".join(encode_basestring(k) + ":" + encode(v) for k, v in members) + "}"
    if kind is list:
        return "[" + ",".join(map(encode, value)) + "]"
    if kind is int:
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise ValueError(f"integer {value} is outside the range JSON numbers hold exactly")
        return str(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is float:
        return format_number(value)
    raise ValueError(f"{kind.__name__} is not a JSON type")


def encode_bytes(value: Any) -> bytes:
    """RFC 8785 bytes; lone surrogates in strings raise `ValueError` (not valid UTF-8)."""
    try:
        return encode(value).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"string is not valid Unicode: {exc.reason}") from None


# The standard library's C encoder with sorted keys writes exactly RFC 8785 when the text
# has no characters outside the Basic Multilingual Plane (for BMP characters code-point
# order is UTF-16 order), no \u escapes, no integers of 16 digits or more, and only floats
# whose repr ECMAScript writes the same way (not integral, 1e-4 <= |x| < 1e16: plain
# decimals such as 0.875). Anything else takes the full path.
_NEEDS_FULL_PATH = re.compile(r"[\U00010000-\U0010ffff]|\\u|[:,\[]\s*-?[0-9]{16}")


class _NotSimple(Exception):
    pass


def _simple_float(text: str) -> float:
    value = float(text)
    if value.is_integer() or not 1e-4 <= abs(value) < 1e16:
        raise _NotSimple
    return value


def _not_simple(_text: str) -> Any:
    raise _NotSimple


_SIMPLE_DECODER = json.JSONDecoder(parse_float=_simple_float, parse_constant=_not_simple)
_SORTED_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_text(json_text: str) -> str:
    """The RFC 8785 text of the JSON document `json_text` (fast for typical entry data)."""
    if not _NEEDS_FULL_PATH.search(json_text):
        try:
            value = _SIMPLE_DECODER.decode(json_text)
        except _NotSimple:
            pass
        else:
            return _SORTED_ENCODER.encode(value)
    return encode(json.loads(json_text))
