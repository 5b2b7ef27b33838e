"""Sending rejected input to `complaints.dlq.v1`, whole, before the stream moves on."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import faust
import structlog

from base.retry import retry_while_raising
from schemas import topics
from schemas.dead_letter import MAX_KEPT_VALUE_BYTES, DeadLetter, DeadLetterKind
from schemas.decoding import InvalidEvent
from streams.messages import SourceMessage, header_pairs

log = structlog.get_logger(__name__)

# What we keep of a value when even the truncated letter is refused by the broker.
LAST_RESORT_VALUE_BYTES = 64 * 1024


class DeadLetterSink(Protocol):
    """Where the handlers put what they cannot accept; returns once it is durable."""

    async def write(
        self, message: SourceMessage, error: InvalidEvent, kind: DeadLetterKind
    ) -> DeadLetter: ...


def build_letter(
    message: SourceMessage,
    error: InvalidEvent,
    kind: DeadLetterKind,
    *,
    keep_bytes: int = MAX_KEPT_VALUE_BYTES,
    now: datetime | None = None,
) -> DeadLetter:
    """The dead letter for `message`: reason, origin, and the original key, headers, value."""
    value = message.value or b""
    kept = value[:keep_bytes]
    return DeadLetter(
        kind=kind,
        reason=_printable(error.reason, 2000) or "no reason given",
        field=_printable(error.field, 500) or "$",
        source_topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        key_base64=DeadLetter.encode_bytes(message.key),
        value_base64=DeadLetter.encode_bytes(kept) or "",
        value_size=len(value),
        value_truncated=len(kept) < len(value),
        headers=DeadLetter.encode_headers(header_pairs(message.headers)),
        event_id=_printable(error.event_id, 64) or None,
        complaint_id=_printable(error.complaint_id, 64) or None,
        dead_lettered_at=now or datetime.now(UTC),
    )


def _printable(text: str | None, limit: int) -> str:
    """Valid UTF-8 (no lone surrogates), bounded: a letter must always serialize."""
    if not text:
        return ""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")[:limit]


class DeadLetterWriter:
    """Writes a dead letter and waits for the broker's ack, so the offset commit that
    follows can never lose the rejected message.

    A broker that does not answer is waited for (with backoff), never skipped: until the
    letter is durable the event is not acked, so its offset is not committed.
    """

    def __init__(self, app: faust.App, *, max_delay: float = 10.0) -> None:
        self._topic = app.topic(topics.COMPLAINTS_DLQ, key_type=bytes, value_type=bytes)
        self._max_delay = max_delay

    async def write(
        self, message: SourceMessage, error: InvalidEvent, kind: DeadLetterKind
    ) -> DeadLetter:
        letter = build_letter(message, error, kind)
        cut = False

        async def send() -> None:
            """One attempt; a letter the broker finds too large is cut to the last resort."""
            nonlocal letter, cut
            try:
                pending = await self._topic.send(
                    key=message.key, value=letter.model_dump_json().encode("utf-8")
                )
                await pending
            except Exception as exc:  # aiokafka raises many types; the size one is special
                if "TooLarge" in type(exc).__name__ and not cut:
                    letter = build_letter(message, error, kind, keep_bytes=LAST_RESORT_VALUE_BYTES)
                    cut = True
                raise

        await retry_while_raising(
            send,
            transient=lambda exc: isinstance(exc, Exception),
            what="dead-letter topic unavailable",
            log_context={
                "source_topic": message.topic,
                "partition": str(message.partition),
                "offset": str(message.offset),
            },
            max_delay=self._max_delay,
        )
        log.warning(
            "event dead-lettered",
            kind=kind.value,
            source_topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            field=letter.field,
            reason=letter.reason,
            complaint_id=letter.complaint_id,
            event_id=letter.event_id,
            value_truncated=letter.value_truncated,
        )
        return letter
