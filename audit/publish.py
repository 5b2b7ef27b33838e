"""Publishing signed checkpoints to `audit.checkpoints.v1`, so other systems witness them.

A checkpoint is stored first and published second. If the broker is down the checkpoint is
not lost: it stays in the database without a publication record, and the next run of the
checkpointer (the worker's periodic task, or `closeloop audit checkpoint`) publishes it.
Delivery is at least once; witnesses keep one copy per checkpoint number.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kafka import KafkaProducer
from kafka.serializer import Serializer

from audit.checkpoints import SignedCheckpoint
from audit.store import AuditLog
from schemas.topics import AUDIT_CHECKPOINTS


@dataclass(frozen=True)
class Publication:
    number: int
    topic: str
    partition: int
    offset: int


class CheckpointPublisher:
    """Sends checkpoint events (key: key id, value: the JSON of the schema) and waits for acks.

    A producer per call: checkpoints are minutes apart, and a fresh connection after a
    broker outage beats a long-lived client's reconnect state.
    """

    def __init__(
        self, bootstrap: str, *, topic: str = AUDIT_CHECKPOINTS, timeout: float = 10.0
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.timeout = timeout

    def publish(
        self,
        checkpoints: list[SignedCheckpoint],
        on_published: Callable[[Publication], None] | None = None,
    ) -> list[Publication]:
        """Publish in order, calling `on_published` after each ack.

        Raises (usually a `kafka.errors.KafkaError`) on the first failure.
        """
        if not checkpoints:
            return []
        timeout_ms = int(self.timeout * 1000)
        producer = KafkaProducer(
            bootstrap_servers=self.bootstrap,
            acks="all",
            bootstrap_timeout_ms=timeout_ms,
            max_block_ms=timeout_ms,
            request_timeout_ms=timeout_ms,
            delivery_timeout_ms=timeout_ms + 1000,
            key_serializer=_Utf8(),
            value_serializer=_Json(),
        )
        try:
            published = []
            for cp in checkpoints:
                future = producer.send(self.topic, key=cp.checkpoint.key_id, value=cp.to_json())
                meta = future.get(timeout=self.timeout + 2)
                publication = Publication(cp.number, meta.topic, meta.partition, meta.offset)
                if on_published:
                    on_published(publication)
                published.append(publication)
            return published
        finally:
            producer.close(timeout=self.timeout)


class _Utf8(Serializer):
    def serialize(self, topic: str, headers: Any, data: Any) -> bytes:
        return str(data).encode("utf-8")


class _Json(Serializer):
    def serialize(self, topic: str, headers: Any, data: Any) -> bytes:
        return json.dumps(data, sort_keys=True).encode("utf-8")


def publish_pending(log: AuditLog, publisher: CheckpointPublisher) -> list[Publication]:
    """Publish every stored checkpoint the broker has not acknowledged, and record the acks.

    Each acknowledgement is recorded as it arrives, so a failure half-way keeps the
    progress made; the exception then propagates to the caller.
    """

    def record(publication: Publication) -> None:
        log.record_publication(
            publication.number,
            topic=publication.topic,
            partition=publication.partition,
            offset=publication.offset,
            when=datetime.now(UTC),
        )

    return publisher.publish(log.unpublished_checkpoints(), record)
