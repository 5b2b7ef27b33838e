"""Publishing complaint events with kafka-python, the way an upstream system would."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from kafka import KafkaProducer

from schemas.decoding import InvalidEvent, check_schema


@dataclass(frozen=True)
class EventsFileError(ValueError):
    """Input that is not a JSON object, a JSON array of objects, or JSON lines."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


def parse_events(text: str, *, name: str = "input") -> list[dict[str, Any]]:
    """Accept one JSON object, a JSON array of objects, or one object per line."""
    stripped = text.strip()
    if not stripped:
        raise EventsFileError(name, "is empty")
    try:
        document = json.loads(stripped)
    except json.JSONDecodeError:
        document = None
        events: list[Any] = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise EventsFileError(f"{name} line {number}", f"not JSON: {exc.msg}") from None
    else:
        events = document if isinstance(document, list) else [document]
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise EventsFileError(f"{name} event #{index + 1}", "is not a JSON object")
    return events


def validate_events(topic: str, events: Iterable[dict[str, Any]]) -> None:
    """Refuse the whole batch before sending anything if one event breaks the contract."""
    for index, event in enumerate(events):
        try:
            check_schema(topic, event)
        except InvalidEvent as invalid:
            raise EventsFileError(f"event #{index + 1}", str(invalid)) from None


def message_key(event: dict[str, Any]) -> bytes | None:
    complaint_id = event.get("complaint_id")
    return complaint_id.encode("utf-8") if isinstance(complaint_id, str) else None


def contract_headers(topic: str) -> list[tuple[str, bytes]]:
    """The optional headers of the contract: what the value is, and which schema it follows."""
    return [("content-type", b"application/json"), ("schema", topic.encode("utf-8"))]


def publish(bootstrap: str, topic: str, events: Iterable[dict[str, Any]]) -> int:
    """Send every event keyed by complaint id, wait for the broker's acks, return the count."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        # An unreachable broker is reported (exit 3) after 10 s rather than kafka-python's 60.
        max_block_ms=10_000,
        bootstrap_timeout_ms=10_000,
        value_serializer=lambda value: json.dumps(value, ensure_ascii=False).encode("utf-8"),
    )
    try:
        headers = contract_headers(topic)
        futures = [
            producer.send(topic, key=message_key(event), value=event, headers=headers)
            for event in events
        ]
        producer.flush()
        for future in futures:
            future.get(timeout=30)
        return len(futures)
    finally:
        producer.close()
