"""`message.delivered` / `message.failed` on `complaints.updates.v1`, for the workflow to audit.

The event id is derived from the message id and the outcome, so a report published twice
(after a restart between publishing and recording it) is one report: the stream and the
workflow both de-duplicate by event id.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid5

from kafka import KafkaProducer

from closeloop.mailer.ledger import Delivery, Outcome
from closeloop.publisher import contract_headers
from schemas.customer_message import CustomerMessage
from schemas.events import MessageDelivered, MessageFailed
from schemas.topics import COMPLAINTS_UPDATES

REPORT_NAMESPACE = UUID("3c1f6a0e-7b2d-4e8a-9f5c-1d2e3f4a5b6c")
SOURCE = "closeloop-mailer"


def report_event(message: CustomerMessage, delivery: Delivery) -> MessageDelivered | MessageFailed:
    event_id = uuid5(REPORT_NAMESPACE, f"{message.message_id}:{delivery.outcome.value}")
    common = {
        "event_id": event_id,
        "occurred_at": datetime.now(UTC),
        "source": SOURCE,
        "complaint_id": message.complaint_id,
        "message_id": message.message_id,
    }
    if delivery.outcome is Outcome.SENT:
        return MessageDelivered(
            **common, event_type="message.delivered", provider_reference=delivery.detail
        )
    return MessageFailed(
        **common, event_type="message.failed", reason=delivery.detail, permanent=delivery.permanent
    )


class Reporter:
    def __init__(self, bootstrap: str, *, timeout: float = 10.0) -> None:
        self._timeout = timeout
        self._producer = KafkaProducer(
            bootstrap_servers=bootstrap, acks="all", linger_ms=0, max_block_ms=int(timeout * 1000)
        )

    def publish(self, message: CustomerMessage, delivery: Delivery) -> None:
        event = report_event(message, delivery)
        future = self._producer.send(
            COMPLAINTS_UPDATES,
            key=message.complaint_id.encode("utf-8"),
            value=event.model_dump_json(exclude_none=True).encode("utf-8"),
            headers=contract_headers(COMPLAINTS_UPDATES),
        )
        future.get(timeout=self._timeout)

    def close(self) -> None:
        self._producer.close(timeout=self._timeout)
