"""Sending rejected input to `complaints.dlq.v1`, whole, before the stream moves on."""

from __future__ import annotations

from datetime import UTC, datetime

import faust
import structlog

from schemas import topics
from schemas.dead_letter import DeadLetter
from schemas.decoding import InvalidEvent

log = structlog.get_logger(__name__)


class DeadLetterWriter:
    """Writes a dead letter and waits for the broker's ack, so the offset commit that
    follows can never lose the rejected message."""

    def __init__(self, app: faust.App) -> None:
        self._topic = app.topic(topics.COMPLAINTS_DLQ, key_type=bytes, value_type=bytes)

    async def write(
        self,
        message: faust.types.Message,
        error: InvalidEvent,
        *,
        complaint_id: str | None = None,
        event_id: str | None = None,
    ) -> DeadLetter:
        letter = DeadLetter(
            reason=error.reason,
            field=error.field,
            source_topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            key_base64=DeadLetter.encode_bytes(message.key),
            value_base64=DeadLetter.encode_bytes(message.value) or "",
            dead_lettered_at=datetime.now(UTC),
            complaint_id=complaint_id,
            event_id=event_id,
        )
        pending = await self._topic.send(
            key=message.key, value=letter.model_dump_json().encode("utf-8")
        )
        await pending
        log.warning(
            "event dead-lettered",
            source_topic=message.topic,
            partition=message.partition,
            offset=message.offset,
            field=error.field,
            reason=error.reason,
            complaint_id=complaint_id,
        )
        return letter
