"""A real stack of its own for the ingestion tests, which kill and restart its parts.

The shared session stacks in `tests/conftest.py` must stay healthy for other tests, so the
tests here that SIGKILL the stream processor or stop the Temporal server get their own:
Temporal dev server (SQLite file, so it keeps its state across a restart), Tansu, `closeloop
worker` and `closeloop stream`, started once per session with the launcher's own functions.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from temporalio.client import Client

from audit.store import AuditLog, EntryFilter
from base.settings import Settings
from base.temporal import connect
from closeloop.dlq import read_dead_letters, read_to_end
from closeloop.stack import (
    ManagedProcess,
    create_topics,
    free_port,
    free_temporal_port,
    register_search_attributes,
    spawn,
    start_broker,
    start_temporal,
    wait_for_broker,
    wait_for_temporal,
)
from schemas.dead_letter import DeadLetter

# The workflow harness on the time-skipping server, for routing tests against the real workflow.
from tests.workflows.conftest import (  # noqa: F401
    detached_harness,
    harness,
    message_policy,
    policy,
    search_attributes_registered,
)

T = TypeVar("T")

# Short enough that the e2e suite does not sit out 30 s per unknown complaint.
UNKNOWN_COMPLAINT_WAIT_S = 4.0


async def eventually(
    probe: Callable[[], Awaitable[T]],
    until: Callable[[T], bool],
    *,
    timeout: float = 120.0,
    interval: float = 0.5,
) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if until(result) or time.monotonic() > deadline:
            return result
        await asyncio.sleep(interval)


async def until_complete(
    probe: Callable[[], Awaitable[dict[str, int]]], size: int, *, stall: float = 90.0
) -> dict[str, int]:
    """Poll a growing result until it has `size` keys, or stops growing for `stall` seconds.

    For effects of the worker (audit entries), whose pace depends on the machine's load, not
    on the stream processor under test."""
    result = await probe()
    last_growth, last_size = time.monotonic(), len(result)
    while len(result) < size and time.monotonic() - last_growth < stall:
        await asyncio.sleep(1.0)
        result = await probe()
        if len(result) > last_size:
            last_growth, last_size = time.monotonic(), len(result)
    return result


@dataclass
class IngestionStack:
    home: Path
    settings: Settings
    env: dict[str, str]
    temporal: ManagedProcess
    broker: ManagedProcess
    worker: ManagedProcess | None = None
    stream: ManagedProcess | None = None
    _client: Client | None = field(default=None, repr=False)

    @property
    def bootstrap(self) -> str:
        return self.settings.kafka_bootstrap

    # --- parts -------------------------------------------------------------------------

    def start_worker(self) -> None:
        self.worker = self._spawn("worker")

    def start_stream(self) -> None:
        self.stream = self._spawn("stream")

    def _spawn(self, part: str) -> ManagedProcess:
        return spawn(
            part,
            [sys.executable, "-m", "closeloop", part],
            self.home / "logs" / f"{part}.log",
            env=self.env,
        )

    def kill_stream(self) -> None:
        """SIGKILL: no shutdown, no final commit, exactly like a crash."""
        assert self.stream is not None
        os.killpg(self.stream.pgid, signal.SIGKILL)
        assert self.stream.popen is not None
        self.stream.popen.wait(timeout=10)

    def stop_temporal(self) -> None:
        self.temporal.stop(timeout=10)
        self._client = None

    def restart_temporal(self) -> None:
        """Same port, same SQLite file: the server comes back with every workflow it had."""
        self.temporal = start_temporal(self.settings, self.home / "logs" / "temporal.log")
        wait_for_temporal(self.settings.temporal_address, timeout=90, process=self.temporal)
        register_search_attributes(self.settings)

    def ensure_worker(self) -> bool:
        """Start the worker again if it exited; True if it had to."""
        if self.worker is not None and self.worker.alive():
            return False
        self.start_worker()
        return True

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The real `closeloop` command, pointed at this stack; fails the test on error."""
        result = subprocess.run(
            [sys.executable, "-m", "closeloop", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, f"closeloop {args}: {result.stdout}\n{result.stderr}"
        return result

    def stop(self) -> None:
        for part in (self.stream, self.worker, self.broker, self.temporal):
            if part is not None:
                part.stop(timeout=10)

    # --- Kafka -------------------------------------------------------------------------

    def publish(
        self,
        topic: str,
        messages: Iterable[tuple[bytes | None, bytes]],
        *,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> int:
        """Send raw (key, value) pairs in order and wait for every ack."""
        producer = KafkaProducer(
            bootstrap_servers=self.bootstrap,
            acks="all",
            linger_ms=5,
            max_request_size=4 * 1024 * 1024,
        )
        try:
            futures = [
                producer.send(topic, key=key, value=value, headers=headers or [])
                for key, value in messages
            ]
            producer.flush()
            for future in futures:
                future.get(timeout=30)
            return len(futures)
        finally:
            producer.close()

    def publish_events(self, topic: str, events: Iterable[dict[str, Any]]) -> int:
        return self.publish(
            topic,
            ((str(e["complaint_id"]).encode(), json.dumps(e).encode()) for e in events),
        )

    def dead_letters(self) -> list[DeadLetter]:
        return [s.letter for s in read_dead_letters(self.bootstrap) if s.letter is not None]

    def end_offsets(self, topic: str) -> dict[TopicPartition, int]:
        """True end offsets: Tansu reports the last batch's base offset + 1, so read the tail."""
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False)
        try:
            partitions = [
                TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()
            ]
            consumer.assign(partitions)
            ends = consumer.end_offsets(partitions)
            for tp in partitions:
                consumer.seek(tp, max(0, ends[tp] - 1))
            for record in read_to_end(consumer, partitions):
                tp = TopicPartition(record.topic, record.partition)
                ends[tp] = max(ends[tp], record.offset + 1)
            return ends
        finally:
            consumer.close()

    def committed_lag(self, topic: str) -> int:
        """Messages on `topic` whose offsets the stream processor has not committed."""
        ends = self.end_offsets(topic)
        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap)
        try:
            group = self.settings.stream_app_id
            committed = admin.list_group_offsets({group: list(ends)}).get(group, {})
        finally:
            admin.close()
        return sum(
            max(0, end - max(0, committed[tp].offset if tp in committed else 0))
            for tp, end in ends.items()
        )

    async def wait_consumed(self, *topic_names: str, timeout: float = 180.0) -> None:
        """Until every message on the topics is committed, i.e. has had its effect."""
        for topic in topic_names:

            async def lag_of(topic: str = topic) -> int:
                return await asyncio.to_thread(self.committed_lag, topic)

            lag = await eventually(lag_of, lambda n: n == 0, timeout=timeout)
            assert lag == 0, f"{lag} message(s) on {topic} not committed\n{self.logs()}"

    # --- Temporal and the audit log ------------------------------------------------------

    async def client(self) -> Client:
        if self._client is None:
            self._client = await connect(self.settings, budget_s=60)
        return self._client

    async def count_workflows(self, query: str) -> int:
        client = await self.client()
        return (await client.count_workflows(query)).count

    def audit_log(self) -> AuditLog:
        return AuditLog.from_url(self.settings.resolved_database_url)

    def audit_entries(self, entry_type: str, complaint_prefix: str = "") -> dict[str, int]:
        """complaint id -> number of entries of `entry_type`."""
        counts: dict[str, int] = {}
        for entry in self.audit_log().iter_entries(EntryFilter(entry_type=entry_type)):
            if entry.complaint_id.startswith(complaint_prefix):
                counts[entry.complaint_id] = counts.get(entry.complaint_id, 0) + 1
        return counts

    def logs(self, chars: int = 6000) -> str:
        parts = []
        for log in sorted((self.home / "logs").glob("*.log")):
            parts.append(f"--- {log.name} ---\n" + log.read_text(errors="replace")[-chars:])
        return "\n".join(parts)

    def log_text(self, part: str) -> str:
        return (self.home / "logs" / f"{part}.log").read_text(errors="replace")


def start_ingestion_stack(home: Path) -> IngestionStack:
    settings = Settings(
        home=home,
        temporal_address=f"127.0.0.1:{free_temporal_port()}",
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        database_url=f"sqlite:///{home / 'audit.db'}",
    )
    env = {
        **os.environ,
        "CLOSELOOP_HOME": str(home),
        "CLOSELOOP_TEMPORAL_ADDRESS": settings.temporal_address,
        "CLOSELOOP_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "CLOSELOOP_DATABASE_URL": settings.resolved_database_url,
        "CLOSELOOP_LOG_FORMAT": "json",
        "CLOSELOOP_STREAM_UNKNOWN_COMPLAINT_WAIT_S": str(UNKNOWN_COMPLAINT_WAIT_S),
        "CLOSELOOP_AUDIT_PUBLISH_CHECKPOINTS": "false",
        "PYTHONUNBUFFERED": "1",
    }
    logs = home / "logs"
    temporal = start_temporal(settings, logs / "temporal.log")
    broker = start_broker(settings, logs / "broker.log")
    stack = IngestionStack(home, settings, env, temporal, broker)
    try:
        wait_for_temporal(settings.temporal_address, timeout=90, process=temporal)
        register_search_attributes(settings)
        wait_for_broker(settings.kafka_bootstrap, process=broker)
        create_topics(settings.kafka_bootstrap)
        stack.start_worker()
        stack.start_stream()
    except BaseException:
        stack.stop()
        raise
    return stack


@pytest.fixture(scope="session")
def ingestion_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[IngestionStack]:
    stack = start_ingestion_stack(tmp_path_factory.mktemp("ingestion"))
    yield stack
    stack.stop()
