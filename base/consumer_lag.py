"""How far a consumer group is behind: the end offset minus the committed offset, per partition.

The stream processor commits an offset only after Temporal accepted the event (invariant 2),
so a lag of zero means every published event has had its effect. The stream exports it as a
gauge and `closeloop status` checks it against a bound; both ask the broker the same way,
with kafka-python's admin client, so they agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from schemas import topics

# What the stream processor's consumer group reads.
STREAM_INPUT_TOPICS = (
    topics.COMPLAINTS_RECEIVED,
    topics.COMPLAINTS_UPDATES,
    topics.OPERATIONS_SHIPMENTS,
)


@dataclass(frozen=True)
class PartitionLag:
    topic: str
    partition: int
    end_offset: int
    committed: int | None  # None: the group never committed on this partition

    @property
    def lag(self) -> int:
        return max(0, self.end_offset - (self.committed or 0))


def group_lag(
    bootstrap: str, group: str, topics: Iterable[str], *, timeout_s: float = 10.0
) -> list[PartitionLag]:
    """Each partition of `topics` with the group's lag; raises KafkaError if the broker fails.

    A partition the group never committed on counts from offset 0: the local broker and
    the production topics keep every event since the start of their retention, and the
    processor reads from the earliest offset.
    """
    timeout_ms = int(timeout_s * 1000)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, request_timeout_ms=timeout_ms + 1000)
    try:
        partitions = [
            TopicPartition(topic, number)
            for topic in topics
            for number in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return []
        ends = consumer.end_offsets(partitions)
        committed = admin.list_group_offsets({group: partitions}).get(group, {})
    finally:
        consumer.close()
        admin.close()

    def offset(tp: TopicPartition) -> int | None:
        found = committed.get(tp)
        if found is None or found.offset < 0:
            return None
        return int(found.offset)

    return [PartitionLag(tp.topic, tp.partition, int(ends[tp]), offset(tp)) for tp in partitions]


def lag_by_topic(lags: Iterable[PartitionLag]) -> dict[str, int]:
    """Summed over partitions: what an operator compares with a bound."""
    totals: dict[str, int] = {}
    for item in lags:
        totals[item.topic] = totals.get(item.topic, 0) + item.lag
    return totals
