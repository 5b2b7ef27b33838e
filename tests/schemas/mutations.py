"""Hypothesis strategies for bad input: arbitrary bytes, and near-valid JSON made by mutating
the published examples (fields dropped, types swapped, strings replaced, extra fields, wrong
event types, huge strings, deep nesting, almost-dates, almost-UUIDs)."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import strategies as st

from schemas.contract import examples_dir, topics_with_schemas
from schemas.decoding import MAX_EVENT_BYTES

SECRET = "S3CRET-VALUE-"  # planted in values: a reason must never repeat it


def examples(topic: str) -> list[dict[str, Any]]:
    return [
        json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(examples_dir(topic).glob("*.json"))
    ]


ALL_EVENT_TYPES = sorted(
    {
        str(doc.get("event_type"))
        for topic in topics_with_schemas()
        for doc in examples(topic)
        if isinstance(doc, dict) and "event_type" in doc
    }
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)

ALMOST_TIMES = [
    "2026-11-21T14:02:31",
    "2026-11-21t14:02:31z",
    "2026-11-21 14:02:31+01:00",
    "2026-11-21",
    "2026-11-21T14:02Z",
    "2026-11-21T24:00:00Z",
    "2026-13-21T14:02:31Z",
    "2026-02-30T14:02:31Z",
    "2026-11-21T23:59:60Z",
    "2026-11-21T14:02:31.123456789Z",
    "2026-11-21T14:02:31+0100",
    "2026-11-21_14:02:31Z",
    "1763733751",
    "2026-11-21T14:02:31Z\n",
]
ALMOST_UUIDS = [
    "6f1c2b9e3f514a7e9a430d2f7c1b8e11",
    "{6f1c2b9e-3f51-4a7e-9a43-0d2f7c1b8e11}",
    "urn:uuid:6f1c2b9e-3f51-4a7e-9a43-0d2f7c1b8e11",
    "6F1C2B9E-3F51-4A7E-9A43-0D2F7C1B8E11",
    "6f1c2b9e-3f51-4a7e-9a43-0d2f7c1b8e1",
    "6f1c2b9e-3f51-4a7e-9a43-0d2f7c1b8e11\n",
    "g f1c2b9e-3f51-4a7e-9a43-0d2f7c1b8e11",
]
ALMOST_NUMBERS: list[Any] = [0, -1, 1.0, 4.5, 5.0, 1e3, True, False, "5", 2**63, -(2**63) - 1, None]


def _containers(doc: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Paths of every dict and list inside `doc`, the root included."""
    found: list[tuple[Any, ...]] = []
    if isinstance(doc, dict):
        found.append(path)
        for key, value in doc.items():
            found.extend(_containers(value, (*path, key)))
    elif isinstance(doc, list):
        found.append(path)
        for index, value in enumerate(doc):
            found.extend(_containers(value, (*path, index)))
    return found


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        doc = doc[part]
    return doc


def _swap_type(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else 0
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return {"0": value[0]} if value else {}
    if isinstance(value, dict):
        return list(value.values())
    return 0


@st.composite
def mutate(draw: st.DrawFn, document: dict[str, Any]) -> Any:
    """One to three random mutations of `document`."""
    doc: Any = copy.deepcopy(document)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        containers = _containers(doc)
        if not containers:
            break
        where = draw(st.sampled_from(containers))
        target = _get(doc, where)
        keys = list(target.keys()) if isinstance(target, dict) else list(range(len(target)))
        op = draw(
            st.sampled_from(
                [
                    "drop",
                    "replace",
                    "text",
                    "swap",
                    "extra",
                    "event_type",
                    "time",
                    "uuid",
                    "number",
                    "huge",
                    "deep",
                    "null",
                    "whitespace",
                ]
            )
        )
        key = draw(st.sampled_from(keys)) if keys else None
        if op == "extra" and isinstance(target, dict):
            target[draw(st.text(min_size=1, max_size=12))] = draw(json_values)
        elif op == "event_type" and isinstance(doc, dict):
            doc["event_type"] = draw(st.sampled_from(ALL_EVENT_TYPES) | st.text(max_size=30))
        elif key is None:
            continue
        elif op == "drop":
            if isinstance(target, dict):
                del target[key]
            else:
                target.pop(key)
        elif op == "replace":
            target[key] = draw(json_values)
        elif op == "text":
            target[key] = SECRET + draw(st.text(max_size=30))
        elif op == "swap":
            target[key] = _swap_type(target[key])
        elif op == "time":
            target[key] = draw(st.sampled_from(ALMOST_TIMES))
        elif op == "uuid":
            target[key] = draw(st.sampled_from(ALMOST_UUIDS))
        elif op == "number":
            target[key] = draw(st.sampled_from(ALMOST_NUMBERS))
        elif op == "huge":
            size = draw(st.sampled_from([501, 4001, 20001, MAX_EVENT_BYTES + 10]))
            target[key] = SECRET + "x" * size
        elif op == "deep":
            nested: Any = SECRET
            for _ in range(draw(st.integers(min_value=5, max_value=60))):
                nested = [nested] if draw(st.booleans()) else {"a": nested}
            target[key] = nested
        elif op == "null":
            target[key] = None
        elif op == "whitespace":
            target[key] = draw(st.sampled_from([" ", "\n", "\t \u00a0", "\u2028", ""]))
    return doc


def near_valid(topic: str) -> st.SearchStrategy[Any]:
    """Mutated examples of `topic`'s contract."""
    return st.sampled_from(examples(topic)).flatmap(mutate)


def near_valid_bytes(topic: str) -> st.SearchStrategy[bytes]:
    """Mutated examples as bytes, sometimes with the JSON text itself damaged."""

    @st.composite
    def encoded(draw: st.DrawFn) -> bytes:
        doc = draw(near_valid(topic))
        raw = json.dumps(doc, ensure_ascii=draw(st.booleans())).encode("utf-8")
        damage = draw(st.sampled_from(["none", "none", "truncate", "flip", "prefix", "bom"]))
        if damage == "truncate" and raw:
            raw = raw[: draw(st.integers(min_value=0, max_value=len(raw) - 1))]
        elif damage == "flip" and raw:
            index = draw(st.integers(min_value=0, max_value=len(raw) - 1))
            raw = raw[:index] + bytes([raw[index] ^ 0x80]) + raw[index + 1 :]
        elif damage == "prefix":
            raw = draw(st.sampled_from([b"[", b"\x00", b"  ", b"\xef\xbb\xbf"])) + raw
        elif damage == "bom":
            raw = b"\xef\xbb\xbf" + raw
        return raw

    return encoded()


arbitrary_bytes = st.binary(max_size=2048) | st.sampled_from(
    [b"", b"null", b"[]", b"{}", b"1", b'"x"', b"{", b"\xff\xfe", b"\x00" * 10, b"NaN"]
)
