"""Reading the dead letters back, and replaying them once their cause is fixed.

Used by `closeloop dlq list` and `closeloop dlq replay`, with kafka-python and no consumer
group: the dead-letter topic is read from the beginning to its end offsets every time, and
nothing is committed, so reading changes nothing.

A replay republishes the original key, headers and bytes to the original topic, adding the
header `x-closeloop-replay-of: complaints.dlq.v1/PARTITION/OFFSET`. It does not validate
first: the fix may have been on our side. Which letters were replayed is recorded in
`CLOSELOOP_HOME/dlq-replayed.json`, so running replay twice does not publish an event twice
by accident (`--again` does, on purpose). A replayed event that fails again becomes a new
dead letter whose headers name the letter it replays.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from pydantic import ValidationError

from schemas import topics
from schemas.dead_letter import DeadLetter

REPLAY_HEADER = "x-closeloop-replay-of"
REPLAYED_FILE = "dlq-replayed.json"


@dataclass(frozen=True)
class StoredLetter:
    """One message of the dead-letter topic: where it is, and the letter (None if unreadable)."""

    partition: int
    offset: int
    letter: DeadLetter | None
    problem: str = ""

    @property
    def position(self) -> str:
        return f"{topics.COMPLAINTS_DLQ}/{self.partition}/{self.offset}"


def read_dead_letters(bootstrap: str, *, timeout: float = 10.0) -> list[StoredLetter]:
    """Every message on the dead-letter topic, oldest first per partition."""
    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        group_id=None,
        request_timeout_ms=max(int(timeout * 1000) + 5000, 30000),
        bootstrap_timeout_ms=int(timeout * 1000),  # unreachable: say so (exit 3) in 10 s, not 30
    )
    try:
        partitions = [
            TopicPartition(topics.COMPLAINTS_DLQ, p)
            for p in sorted(consumer.partitions_for_topic(topics.COMPLAINTS_DLQ) or ())
        ]
        if not partitions:
            return []
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        return [
            _parse(record.partition, record.offset, record.value)
            for record in read_to_end(consumer, partitions, timeout=timeout)
        ]
    finally:
        consumer.close()


def read_to_end(
    consumer: KafkaConsumer, partitions: list[TopicPartition], *, timeout: float = 10.0
) -> list[Any]:
    """Records from the consumer's positions to the end of `partitions`, in offset order.

    Not trusting the reported end offsets alone: Tansu (the local broker) reports the base
    offset of the last record batch plus one, which falls short when that batch holds more
    than one record. So read until the reported ends are reached *and* a poll comes back
    empty.
    """
    ends = consumer.end_offsets(partitions)
    records: list[Any] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reached = all(consumer.position(tp) >= ends[tp] for tp in partitions)
        batch = consumer.poll(timeout_ms=300 if reached else 1000)
        if not batch:
            if reached:
                break
            continue
        for tp_records in batch.values():
            records.extend(tp_records)
    return sorted(records, key=lambda r: (r.partition, r.offset))


def _parse(partition: int, offset: int, value: bytes | None) -> StoredLetter:
    try:
        return StoredLetter(partition, offset, DeadLetter.model_validate_json(value or b""))
    except ValidationError as exc:
        return StoredLetter(
            partition, offset, None, f"unreadable dead letter: {exc.error_count()} error(s)"
        )


# --- which letters were replayed --------------------------------------------------------------


class ReplayLedger:
    """The dead letters already replayed from this CLOSELOOP_HOME, by topic/partition/offset."""

    def __init__(self, home: Path) -> None:
        self.path = home / REPLAYED_FILE

    def load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def record(self, positions: Iterable[tuple[str, str]]) -> None:
        data = self.load()
        data.update(dict(positions))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)


@dataclass(frozen=True)
class ReplayPlan:
    to_replay: list[StoredLetter]
    already_replayed: list[StoredLetter]
    not_replayable: list[tuple[StoredLetter, str]]


def plan_replay(
    stored: list[StoredLetter],
    replayed: dict[str, str],
    *,
    event_id: str | None = None,
    position: str | None = None,
    kind: str | None = None,
    again: bool = False,
) -> ReplayPlan:
    """Choose the letters to replay: filtered, not yet replayed (unless `again`), complete."""
    chosen, skipped, refused = [], [], []
    for item in stored:
        letter = item.letter
        if event_id is not None and (letter is None or letter.event_id != event_id):
            continue
        if position is not None and item.position != position:
            continue
        if kind is not None and (letter is None or letter.kind.value != kind):
            continue
        if letter is None:
            refused.append((item, item.problem or "unreadable"))
        elif letter.value_truncated:
            refused.append((item, "the original value was too large and was kept truncated"))
        elif item.position in replayed and not again:
            skipped.append(item)
        else:
            chosen.append(item)
    return ReplayPlan(chosen, skipped, refused)


def republish(bootstrap: str, letters: list[StoredLetter], *, timeout: float = 30.0) -> int:
    """Send each letter's original message back to its topic; wait for every ack."""
    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, bootstrap_timeout_ms=10_000
    )
    try:
        futures = []
        for item in letters:
            letter = item.letter
            assert letter is not None
            headers = [(k, v) for k, v in letter.original_headers() if k != REPLAY_HEADER]
            headers.append((REPLAY_HEADER, item.position.encode("utf-8")))
            futures.append(
                producer.send(
                    letter.source_topic,
                    key=letter.original_key(),
                    value=letter.original_value(),
                    headers=headers,
                )
            )
        producer.flush(timeout=timeout)
        for future in futures:
            future.get(timeout=timeout)
        return len(futures)
    finally:
        producer.close()
