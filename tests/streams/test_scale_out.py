"""Scale-out without loss: three `closeloop stream` processes in one consumer group and two
`closeloop worker` processes on one task queue give the guarantees of one.

The stack is real and its own (Tansu, Temporal dev server in memory, PostgreSQL for the audit
log): each round publishes 2,000 complaints and two follow-ups for every tenth one while a
stream processor is SIGKILLed, another one joins, and a worker restarts. Afterwards the counts
are exact: one workflow and one `complaint.received` entry per complaint, each follow-up
applied once and after the one before it, nothing dead-lettered, and the audit log verifies.
Three rounds in a row, on the same stack, so a pass is not luck.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from audit.store import EntryFilter
from base.settings import Settings
from closeloop.stack import (
    ManagedProcess,
    create_topics,
    free_port,
    free_temporal_port,
    register_search_attributes,
    spawn,
    start_broker,
    wait_for_broker,
    wait_for_temporal,
)
from closeloop.stack.services import temporal_command
from schemas import topics
from schemas.contract import examples_dir
from tests.conftest import create_postgres_database, drop_postgres_database
from tests.streams.conftest import IngestionStack, eventually, until_complete

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

COMPLAINTS = 2_000
FOLLOWED_UP = range(0, COMPLAINTS, 10)  # two follow-ups each, in this order:
FOLLOW_UPS = ("customer-information-added", "survey-responded")
FOLLOW_UP_ENTRIES = ("complaint.information_added", "complaint.survey")
STREAMS, WORKERS = 3, 2


class ScaleStack(IngestionStack):
    """The ingestion stack's helpers, with several processors and workers."""

    streams: list[ManagedProcess]
    workers: list[ManagedProcess]
    _started: int

    def start_part(self, part: str) -> ManagedProcess:
        self._started = getattr(self, "_started", 0) + 1
        return spawn(
            part,
            [sys.executable, "-m", "closeloop", part],
            self.home / "logs" / f"{part}-{self._started}.log",
            env=self.env,
        )

    def kill(self, process: ManagedProcess) -> None:
        """SIGKILL: no revocation, no final commit; the group notices by session timeout."""
        os.killpg(process.pgid, signal.SIGKILL)
        assert process.popen is not None
        process.popen.wait(timeout=10)

    def stop(self) -> None:
        for part in [*self.streams, *self.workers, self.broker, self.temporal]:
            try:
                part.stop(timeout=10)
            except Exception as exc:  # stop the others all the same
                print(f"could not stop {part.name}: {exc}")


@pytest.fixture(scope="module")
def scale_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScaleStack]:
    home = tmp_path_factory.mktemp("scale")
    database_url = create_postgres_database()
    settings = Settings(
        home=home,
        temporal_address=f"127.0.0.1:{free_temporal_port()}",
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        database_url=database_url,
    )
    env = {
        **os.environ,
        "CLOSELOOP_HOME": str(home),
        "CLOSELOOP_TEMPORAL_ADDRESS": settings.temporal_address,
        "CLOSELOOP_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "CLOSELOOP_DATABASE_URL": database_url,
        "CLOSELOOP_LOG_FORMAT": "json",
        "CLOSELOOP_LOG_LEVEL": "warning",
        # A follow-up may wait for its complaint while partitions move: never dead-letter it.
        "CLOSELOOP_STREAM_UNKNOWN_COMPLAINT_WAIT_S": "300",
        "CLOSELOOP_AUDIT_PUBLISH_CHECKPOINTS": "false",
        # What is under test is ingestion; messages to complainants have their own tests.
        "CLOSELOOP_MESSAGES": '{"enabled": false}',
        "PYTHONUNBUFFERED": "1",
    }
    logs = home / "logs"
    # In memory: the workers restart in the test, the Temporal server does not.
    command = temporal_command(settings)
    at = command.index("--db-filename")
    del command[at : at + 2]
    temporal = spawn("temporal", command, logs / "temporal.log", address=settings.temporal_address)
    broker = start_broker(settings, logs / "broker.log")
    stack = ScaleStack(home, settings, env, temporal, broker)
    stack.streams, stack.workers = [], []
    try:
        wait_for_temporal(settings.temporal_address, timeout=90, process=temporal)
        register_search_attributes(settings)
        wait_for_broker(settings.kafka_bootstrap, process=broker)
        create_topics(settings.kafka_bootstrap)
        stack.workers = [stack.start_part("worker") for _ in range(WORKERS)]
        stack.streams = [stack.start_part("stream") for _ in range(STREAMS)]
        yield stack
    finally:
        stack.stop()
        drop_postgres_database(database_url)


def _example(topic: str, name: str) -> dict[str, Any]:
    return json.loads((examples_dir(topic) / f"{name}.json").read_text(encoding="utf-8"))


def _events(prefix: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    received_example = _example(topics.COMPLAINTS_RECEIVED, "web-shop")
    complaints = [
        {
            **received_example,
            "event_id": str(uuid.uuid4()),
            "complaint_id": f"{prefix}{i:04d}",
            "occurred_at": datetime.now(UTC).isoformat(),
        }
        for i in range(COMPLAINTS)
    ]
    follow_ups = [
        {
            **_example(topics.COMPLAINTS_UPDATES, name),
            "event_id": str(uuid.uuid4()),
            "complaint_id": complaints[i]["complaint_id"],
        }
        for i in FOLLOWED_UP
        for name in FOLLOW_UPS
    ]
    return complaints, follow_ups


def _publish(
    stack: ScaleStack, complaints: list[dict], follow_ups: list[dict], done: threading.Event
) -> None:
    """Complaints in batches; each batch's follow-ups right after it (so some overtake)."""
    by_complaint: dict[str, list[dict]] = {}
    for event in follow_ups:
        by_complaint.setdefault(event["complaint_id"], []).append(event)
    try:
        for start in range(0, len(complaints), 100):
            batch = complaints[start : start + 100]
            stack.publish_events(topics.COMPLAINTS_RECEIVED, batch)
            stack.publish_events(
                topics.COMPLAINTS_UPDATES,
                [e for c in batch for e in by_complaint.get(c["complaint_id"], [])],
            )
            done.wait(1.0)  # paced: the disruptions below happen mid-stream
    finally:
        done.set()


def _entries_by_event(stack: ScaleStack, entry_type: str, prefix: str) -> dict[str, list[int]]:
    """event id -> the seq of every entry of `entry_type` that carries it."""
    found: dict[str, list[int]] = {}
    for entry in stack.audit_log().iter_entries(EntryFilter(entry_type=entry_type)):
        if entry.complaint_id.startswith(prefix):
            found.setdefault(str(entry.data.get("event_id")), []).append(entry.seq)
    return found


@pytest.mark.parametrize("round_number", [1, 2, 3])
async def test_processors_killed_and_joining_and_a_worker_restarting_lose_and_repeat_nothing(
    scale_stack: ScaleStack, round_number: int
):
    stack = scale_stack
    prefix = f"SCALE{round_number}{uuid.uuid4().hex[:4]}-"
    complaints, follow_ups = _events(prefix)
    published = threading.Event()
    publisher = threading.Thread(target=_publish, args=(stack, complaints, follow_ups, published))
    publisher.start()

    async def started() -> int:
        return await stack.count_workflows(f'WorkflowId STARTS_WITH "{prefix}"')

    try:
        assert await eventually(started, lambda n: n >= 300, timeout=240, interval=0.3) >= 300, (
            stack.logs()
        )
        victim = stack.streams.pop(0)
        stack.kill(victim)  # mid-stream: events in flight, offsets not committed
        stack.streams.append(stack.start_part("stream"))  # joins: another rebalance
        assert await eventually(started, lambda n: n >= 900, timeout=240, interval=0.3) >= 900
        worker = stack.workers.pop(0)
        worker.stop(timeout=30)
        stack.workers.append(stack.start_part("worker"))
    finally:
        await asyncio.to_thread(published.wait)
        publisher.join()

    await stack.wait_consumed(topics.COMPLAINTS_RECEIVED, topics.COMPLAINTS_UPDATES, timeout=420)
    assert await started() == COMPLAINTS, stack.logs()
    receipts = await until_complete(
        lambda: asyncio.to_thread(stack.audit_entries, "complaint.received", prefix), COMPLAINTS
    )
    assert receipts == {c["complaint_id"]: 1 for c in complaints}

    applied: dict[str, list[int]] = {}
    for entry_type in FOLLOW_UP_ENTRIES:
        applied.update(_entries_by_event(stack, entry_type, prefix))
    assert {event_id: len(seqs) for event_id, seqs in applied.items()} == {
        e["event_id"]: 1 for e in follow_ups
    }
    # In order per complaint: the information was recorded before the survey.
    for first, second in zip(follow_ups[::2], follow_ups[1::2], strict=True):
        assert applied[first["event_id"]][0] < applied[second["event_id"]][0], first["complaint_id"]
    letters = [
        letter
        for letter in stack.dead_letters()
        if letter.complaint_id and letter.complaint_id.startswith(prefix)
    ]
    assert letters == [], [letter.describe() for letter in letters]
    stack.cli("audit", "verify")  # exits 0 only if the chain and checkpoints verify
