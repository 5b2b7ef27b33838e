"""Sending signals to `quality.signals.v1`, after they are audited.

The audit entry comes first: a broker that is down delays a signal, it never loses one.
Each send is recorded (`trends.signal_published`), and every run sends what is not yet
recorded as sent, so delivery is at least once; consumers keep one copy per signal_id.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from kafka import KafkaProducer

from schemas.quality_signal import QualitySignal
from schemas.topics import QUALITY_SIGNALS


class SignalPublisher:
    """A producer per run: runs are a day apart, so a fresh connection beats a kept one."""

    def __init__(self, bootstrap: str, *, topic: str = QUALITY_SIGNALS, timeout: float = 10.0):
        self.bootstrap = bootstrap
        self.topic = topic
        self.timeout = timeout

    def publish(
        self,
        signals: list[QualitySignal],
        on_published: Callable[[QualitySignal, dict[str, object]], None],
    ) -> int:
        """Send in order, calling `on_published` after each ack; raises on the first failure."""
        if not signals:
            return 0
        timeout_ms = int(self.timeout * 1000)
        producer = KafkaProducer(
            bootstrap_servers=self.bootstrap,
            acks="all",
            bootstrap_timeout_ms=timeout_ms,
            max_block_ms=timeout_ms,
            request_timeout_ms=timeout_ms,
            delivery_timeout_ms=timeout_ms + 1000,
        )
        try:
            for signal in signals:
                value = json.dumps(signal.to_json(), separators=(",", ":")).encode("utf-8")
                future = producer.send(self.topic, key=signal.rule.encode("utf-8"), value=value)
                meta = future.get(timeout=self.timeout + 2)
                where = {"topic": meta.topic, "partition": meta.partition, "offset": meta.offset}
                on_published(signal, where)
            return len(signals)
        finally:
            producer.close(timeout=self.timeout)
