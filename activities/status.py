"""Publishing `complaints.status.v1` events to Kafka for downstream systems.

The workflow sends one event at a time, in order, and retries a failed send without limit
(capped backoff): a broker outage delays status events, it never loses them and never stops
a complaint. Each event's id is derived from (complaint id, sequence), so the rare duplicate
after a retry is recognisable downstream.
"""

from __future__ import annotations

import threading

import structlog
from kafka import KafkaProducer
from temporalio import activity

from schemas.status_event import ComplaintStatusEvent
from schemas.topics import COMPLAINTS_STATUS

log = structlog.get_logger(__name__)


class StatusPublisher:
    """One Kafka producer per worker process, created on first use and reset after errors."""

    def __init__(self, bootstrap: str, *, topic: str = COMPLAINTS_STATUS, timeout: float = 10.0):
        self._bootstrap = bootstrap
        self._topic = topic
        self._timeout = timeout
        self._producer: KafkaProducer | None = None
        self._lock = threading.Lock()

    def _get_producer(self) -> KafkaProducer:
        with self._lock:
            if self._producer is None:
                timeout_ms = int(self._timeout * 1000)
                self._producer = KafkaProducer(
                    bootstrap_servers=self._bootstrap,
                    acks="all",
                    linger_ms=0,
                    max_block_ms=timeout_ms,
                    request_timeout_ms=timeout_ms,
                    bootstrap_timeout_ms=timeout_ms,
                    delivery_timeout_ms=timeout_ms * 3,
                )
            return self._producer

    def close(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=self._timeout)

    @activity.defn(name="publish_status_event")
    def publish_status_event(self, event: ComplaintStatusEvent) -> None:
        try:
            producer = self._get_producer()
            future = producer.send(
                self._topic,
                key=event.complaint_id.encode("utf-8"),
                value=event.model_dump_json().encode("utf-8"),
            )
            metadata = future.get(timeout=self._timeout)
        except Exception as exc:
            log.warning(
                "status event not published, will retry",
                complaint_id=event.complaint_id,
                sequence=event.sequence,
                error=f"{type(exc).__name__}: {exc}",
                attempt=activity.info().attempt,
            )
            self.close()
            raise
        log.info(
            "status event published",
            complaint_id=event.complaint_id,
            event_type=event.event_type.value,
            status=event.status.value,
            sequence=event.sequence,
            partition=metadata.partition,
            offset=metadata.offset,
        )
