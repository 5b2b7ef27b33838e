"""What the handlers need from a Kafka message and its stream event.

faust's `Message` and `Event` have these attributes; unit tests use small stand-ins.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Protocol


class SourceMessage(Protocol):
    @property
    def topic(self) -> str: ...

    @property
    def partition(self) -> int: ...

    @property
    def offset(self) -> int: ...

    @property
    def key(self) -> bytes | None: ...

    @property
    def value(self) -> bytes | None: ...

    @property
    def headers(self) -> Any: ...


class AckableEvent(Protocol):
    """A stream event: its message, and `ack()` to mark the offset safe to commit."""

    @property
    def message(self) -> SourceMessage: ...

    def ack(self) -> bool: ...


def header_pairs(headers: Any) -> list[tuple[str, bytes | None]]:
    """faust gives headers as a list of pairs or as a mapping; either way, as pairs."""
    if not headers:
        return []
    items = headers.items() if hasattr(headers, "items") else headers
    pairs: list[tuple[str, bytes | None]] = []
    for name, value in items:
        text = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
        pairs.append((text, bytes(value) if value is not None else None))
    return pairs


class Outcome(StrEnum):
    """What handling one message did; the stream moves on after each of them."""

    STARTED = "started"  # a complaint's workflow was started
    APPLIED = "applied"  # a follow-up reached its workflow (Update completed / Signal sent)
    DUPLICATE = "duplicate"  # already done before: no second effect
    DEAD_LETTERED = "dead_lettered"  # written to complaints.dlq.v1 with the reason
