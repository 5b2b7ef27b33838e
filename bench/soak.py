"""Soak: a steady stream of complaints through 2 stream processors and 2 workers, for minutes.

The local stack's parts as `closeloop up` runs them (Temporal dev server on a SQLite file,
Tansu, audit log on SQLite), started here on free ports, with two `closeloop stream`
processes in one consumer group and two `closeloop worker` processes on one task queue.

1. Ceiling (the baseline, same run): a burst of `--ceiling-n` complaints published at once;
   the ceiling is how many `complaint.received` audit entries per second the stack records
   until the last one is there. Skipped when `--rate` is given.
2. Steady load: `--rate` complaints per second (default half the ceiling) for `--minutes`
   (default 10), each stamped `occurred_at` when it is published. The first `--warmup-s`
   seconds are warm-up: the resident memory of each process is read at its end and at the
   end of the run, and latencies count only after it.
3. Latency: from `occurred_at` to the `recorded_at` of the complaint's `complaint.received`
   audit entry (the worker's clock; same machine), p50 and p99.

Targets (issue 13): p50 <= 150 ms and p99 <= 1 s at half the ceiling; no process grows by
more than 10 % after warm-up.

    .venv/bin/python bench/soak.py                     # ceiling, then 10 minutes at half of it
    .venv/bin/python bench/soak.py --minutes 3         # shorter, on a busy machine
    .venv/bin/python bench/soak.py --rate 20 --minutes 3
    .venv/bin/python bench/soak.py --database-url postgresql://postgres@127.0.0.1:5432/soak
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psutil
from kafka import KafkaProducer

from audit.store import AuditLog, EntryFilter
from base.settings import Settings
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
from schemas import topics
from schemas.contract import examples_dir

EXAMPLE = json.loads(
    (examples_dir(topics.COMPLAINTS_RECEIVED) / "web-shop.json").read_text(encoding="utf-8")
)
TARGET_P50_S, TARGET_P99_S, TARGET_GROWTH = 0.150, 1.0, 0.10


@dataclass
class Stack:
    settings: Settings
    parts: list[ManagedProcess]
    ours: list[ManagedProcess]  # the stream processors and workers, measured for memory

    def stop(self) -> None:
        for part in reversed(self.parts):
            part.stop(timeout=15)


def start_stack(home: Path, streams: int, workers: int, database_url: str | None) -> Stack:
    settings = Settings(
        home=home,
        temporal_address=f"127.0.0.1:{free_temporal_port()}",
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        database_url=database_url or f"sqlite:///{home / 'audit.db'}",
    )
    logs = home / "logs"
    temporal = start_temporal(settings, logs / "temporal.log")
    broker = start_broker(settings, logs / "broker.log")
    stack = Stack(settings, [temporal, broker], [])
    try:
        wait_for_temporal(settings.temporal_address, timeout=90, process=temporal)
        register_search_attributes(settings)
        wait_for_broker(settings.kafka_bootstrap, process=broker)
        create_topics(settings.kafka_bootstrap)
        env = {
            **os.environ,
            "CLOSELOOP_HOME": str(home),
            "CLOSELOOP_TEMPORAL_ADDRESS": settings.temporal_address,
            "CLOSELOOP_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
            "CLOSELOOP_DATABASE_URL": settings.resolved_database_url,
            "CLOSELOOP_LOG_LEVEL": "warning",
            "CLOSELOOP_LOG_FORMAT": "json",
        }
        for part, count in (("worker", workers), ("stream", streams)):
            for index in range(1, count + 1):
                process = spawn(
                    f"{part}-{index}",
                    [sys.executable, "-m", "closeloop", part],
                    logs / f"{part}-{index}.log",
                    env=env,
                )
                stack.parts.append(process)
                stack.ours.append(process)
    except BaseException:
        stack.stop()
        raise
    return stack


def complaint(prefix: str, index: int) -> tuple[bytes, bytes]:
    complaint_id = f"{prefix}{index:07d}"
    event = {
        **EXAMPLE,
        "event_id": str(uuid.uuid4()),
        "complaint_id": complaint_id,
        "occurred_at": datetime.now(UTC).isoformat(),
    }
    return complaint_id.encode(), json.dumps(event).encode("utf-8")


def received_times(log: AuditLog, prefix: str, since: datetime) -> dict[str, datetime]:
    """complaint id -> recorded_at of its complaint.received entry."""
    return {
        entry.complaint_id: entry.recorded_at
        for entry in log.iter_entries(EntryFilter(entry_type="complaint.received", since=since))
        if entry.complaint_id.startswith(prefix)
    }


async def wait_for_entries(
    log: AuditLog, prefix: str, since: datetime, n: int, limit_s: float
) -> dict[str, datetime]:
    deadline = time.monotonic() + limit_s
    while True:
        found = await asyncio.to_thread(received_times, log, prefix, since)
        if len(found) >= n or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.25)


def rss_mb(process: ManagedProcess) -> float:
    """Resident memory of the process and its children (a part may spawn helpers)."""
    try:
        root = psutil.Process(process.pid)
        tree = [root, *root.children(recursive=True)]
        return sum(p.memory_info().rss for p in tree) / 1e6
    except psutil.NoSuchProcess:
        return float("nan")


async def ceiling(producer: KafkaProducer, log: AuditLog, n: int) -> float:
    prefix = f"CEIL{uuid.uuid4().hex[:6]}-"
    since = datetime.now(UTC)
    began = time.monotonic()
    for index in range(n):
        key, value = complaint(prefix, index)
        producer.send(topics.COMPLAINTS_RECEIVED, key=key, value=value)
    producer.flush()
    found = await wait_for_entries(log, prefix, since, n, limit_s=900)
    if len(found) < n:
        raise TimeoutError(f"ceiling: only {len(found)} of {n} complaints recorded")
    last = max(found.values())
    return n / max((last - since).total_seconds(), time.monotonic() - began - 0.25, 1e-3)


async def warm_up(producer: KafkaProducer, log: AuditLog) -> None:
    """The consumer group's first join takes seconds on Tansu: wait until events flow."""
    prefix = f"WARM{uuid.uuid4().hex[:6]}-"
    since = datetime.now(UTC)
    for index in range(20):
        key, value = complaint(prefix, index)
        producer.send(topics.COMPLAINTS_RECEIVED, key=key, value=value)
    producer.flush()
    found = await wait_for_entries(log, prefix, since, 20, limit_s=300)
    if len(found) < 20:
        raise TimeoutError("the stack did not record 20 complaints within 5 minutes")


async def steady(
    producer: KafkaProducer, stack: Stack, log: AuditLog, args: argparse.Namespace, rate: float
) -> None:
    prefix = f"SOAK{uuid.uuid4().hex[:6]}-"
    since = datetime.now(UTC)
    duration = args.minutes * 60.0
    published: dict[str, datetime] = {}
    memory_start: list[float] = []
    warm_until = args.warmup_s
    began = time.monotonic()
    sent = 0
    tick = 0.1
    while (elapsed := time.monotonic() - began) < duration:
        due = int(rate * elapsed)
        while sent < due:
            key, value = complaint(prefix, sent)
            published[key.decode()] = json.loads(value)["occurred_at"]
            producer.send(topics.COMPLAINTS_RECEIVED, key=key, value=value)
            sent += 1
        producer.flush()
        if not memory_start and elapsed >= warm_until:
            memory_start = [rss_mb(p) for p in stack.ours]
            print(f"warm-up over after {elapsed:.0f}s; {sent} published", flush=True)
        if int(elapsed) % 60 == 0 and int(elapsed) and elapsed % 60 < tick:
            print(f"  {elapsed / 60:.0f} min: {sent} published", flush=True)
        await asyncio.sleep(tick)
    publish_s = time.monotonic() - began
    if not memory_start:
        memory_start = [rss_mb(p) for p in stack.ours]
    found = await wait_for_entries(log, prefix, since, sent, limit_s=300)
    memory_end = [rss_mb(p) for p in stack.ours]

    warm_cut = since.timestamp() + warm_until
    latencies = sorted(
        (recorded - datetime.fromisoformat(str(published[cid]))).total_seconds()
        for cid, recorded in found.items()
        if datetime.fromisoformat(str(published[cid])).timestamp() >= warm_cut
    )
    last = max(found.values()) if found else since
    processed_rate = len(found) / max((last - since).total_seconds(), 1e-3)
    print()
    print(f"steady load: {rate:.1f} complaints/s asked for {args.minutes:g} min")
    print(f"achieved: published {sent / publish_s:.1f}/s, recorded {processed_rate:.1f}/s")
    print(f"recorded {len(found)} of {sent} (missing: {sent - len(found)})")
    if latencies:
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        verdict = "met" if p50 <= TARGET_P50_S and p99 <= TARGET_P99_S else "NOT met"
        print(
            f"latency occurred_at -> complaint.received (after warm-up, {len(latencies)}): "
            f"p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
            f" (target p50 <= 150 ms, p99 <= 1 s: {verdict})"
        )
    print("resident memory after warm-up -> end:")
    for process, start, end in zip(stack.ours, memory_start, memory_end, strict=True):
        growth = (end - start) / start if start else float("nan")
        verdict = "ok" if growth <= TARGET_GROWTH else "GREW MORE THAN 10 %"
        print(f"  {process.name:9} {start:7.1f} MB -> {end:7.1f} MB ({growth:+.1%}, {verdict})")


async def run(args: argparse.Namespace, home: Path) -> None:
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    stack = start_stack(home, args.streams, args.workers, args.database_url)
    log = AuditLog.from_url(stack.settings.resolved_database_url)
    producer = KafkaProducer(
        bootstrap_servers=stack.settings.kafka_bootstrap, acks="all", linger_ms=5
    )
    try:
        started = time.monotonic()
        await warm_up(producer, log)
        print(f"stack ready after {time.monotonic() - started:.0f}s", flush=True)
        rate = args.rate
        if rate is None:
            top = await ceiling(producer, log, args.ceiling_n)
            rate = top / 2
            print(
                f"ceiling ({args.ceiling_n} at once): {top:.1f} complaints recorded/s; "
                f"soak at half: {rate:.1f}/s",
                flush=True,
            )
        await steady(producer, stack, log, args, rate)
        print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    finally:
        producer.close()
        log.dispose()
        stack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="steady load (default 10)")
    parser.add_argument(
        "--rate", type=float, default=None, help="complaints/s (default: half the ceiling)"
    )
    parser.add_argument(
        "--ceiling-n", type=int, default=1000, help="burst that measures the ceiling"
    )
    parser.add_argument("--warmup-s", type=float, default=60.0, help="warm-up of the steady load")
    parser.add_argument("--streams", type=int, default=2, help="stream processors (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="workers (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the state folder and logs")
    parser.add_argument(
        "--database-url",
        default=None,
        help="audit log database, e.g. postgresql://postgres@127.0.0.1:5432/DB (an empty "
        "database; default: SQLite in the state folder)",
    )
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="closeloop-bench-soak-"))
    try:
        asyncio.run(run(args, home))
    finally:
        if args.keep:
            print(f"state and logs kept in {home}")
        else:
            import shutil

            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
