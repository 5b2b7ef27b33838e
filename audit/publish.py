"""Publishing signed checkpoints to `audit.checkpoints.v1`, so other systems witness them.

A checkpoint is stored first and published second. If the broker is down the checkpoint is
not lost: it stays in the database without a publication record, and the next run of the
checkpointer (the worker's periodic task, or `closeloop audit checkpoint`) publishes it.
Delivery is at least once; witnesses keep one copy per checkpoint number.

A broker that keeps its data in memory (Tansu here, a misconfigured cluster elsewhere) can
lose what it acknowledged. So before publishing, the checkpointer reads the last message of
the topic: if it is older than the newest checkpoint recorded as published, the broker lost
them, and every checkpoint is published again, in order, for witnesses that join later.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.serializer import Serializer

from audit.checkpoints import SignedCheckpoint
from audit.store import AuditLog
from schemas.topics import AUDIT_CHECKPOINTS

log = structlog.get_logger(__name__)


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

    def newest_on_topic(self) -> int:
        """The highest checkpoint number among the last message of each partition (0: none).

        Raises a `kafka.errors.KafkaError` when the broker cannot be asked.
        """
        timeout_ms = int(self.timeout * 1000)
        consumer = KafkaConsumer(
            bootstrap_servers=self.bootstrap,
            enable_auto_commit=False,
            request_timeout_ms=max(timeout_ms, 1000) + 1000,
            bootstrap_timeout_ms=timeout_ms,
        )
        try:
            partitions = consumer.partitions_for_topic(self.topic) or set()
            assigned = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            consumer.assign(assigned)
            ends = {tp: end for tp, end in consumer.end_offsets(assigned).items() if end}
            for tp, end in ends.items():
                consumer.seek(tp, end - 1)
            newest, waiting = 0, set(ends)
            deadline = self.timeout
            while waiting and deadline > 0:
                for tp, records in consumer.poll(timeout_ms=500).items():
                    waiting.discard(tp)
                    for record in records:
                        newest = max(newest, _number(record.value))
                deadline -= 0.5
            return newest
        finally:
            consumer.close()


def _number(value: bytes | None) -> int:
    try:
        number = json.loads(value or b"{}").get("number", 0)
    except (ValueError, AttributeError):
        return 0
    return number if isinstance(number, int) else 0


class _Utf8(Serializer):
    def serialize(self, topic: str, headers: Any, data: Any) -> bytes:
        return str(data).encode("utf-8")


class _Json(Serializer):
    def serialize(self, topic: str, headers: Any, data: Any) -> bytes:
        return json.dumps(data, sort_keys=True).encode("utf-8")


def publish_pending(
    audit_log: AuditLog, publisher: CheckpointPublisher, *, check_lost: bool = False
) -> list[Publication]:
    """Publish every stored checkpoint the broker has not acknowledged, and record the acks.

    Each acknowledgement is recorded as it arrives, so a failure half-way keeps the
    progress made; the exception then propagates to the caller. With `check_lost`, first
    look whether the broker still holds the newest checkpoint recorded as published, and
    publish everything again if not.
    """

    def record(publication: Publication) -> None:
        audit_log.record_publication(
            publication.number,
            topic=publication.topic,
            partition=publication.partition,
            offset=publication.offset,
            when=datetime.now(UTC),
        )

    if check_lost:
        recorded = audit_log.newest_published_number()
        on_topic = publisher.newest_on_topic() if recorded else 0
        if recorded > on_topic:
            everything = audit_log.checkpoints()
            log.warning(
                "the broker lost published audit checkpoints; publishing them all again",
                topic=publisher.topic,
                newest_recorded=recorded,
                newest_on_topic=on_topic,
                republishing=len(everything),
            )
            return publisher.publish(everything, record)
    return publisher.publish(audit_log.unpublished_checkpoints(), record)
