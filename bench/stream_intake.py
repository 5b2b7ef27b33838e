"""How close the Kafka intake comes to starting workflows directly with the Temporal client.

One run, one Temporal dev server (in memory unless --sqlite), one Tansu broker, both started
here on free ports with the launcher's functions:

- ceiling: the Temporal client starts N complaint workflows itself, C at a time, with the
  same `start_complaint` call (same id policies, same search attributes) the stream uses.
  C is calibrated first: a short round at each of 8, 16, 32, 64 and 128 concurrent starts,
  and the fastest is the ceiling's (too many concurrent starts slow the dev server down);
- stream: N `complaint.received` events are published to Kafka, and the already-running
  `closeloop stream` process (consumer group joined beforehand) starts the workflows.

Both rates are measured the same way: from the first start call (or the first publish) until
Temporal's visibility counts all N workflows of the round, polled every 50 ms from the start
of the round in both cases. Rounds alternate ceiling, stream, stream, ceiling, ... so a server
that slows down as it fills up penalises neither side; the ratio is of the means. No worker
runs: starting a workflow needs none, and a worker would compete for the same two cores in
one phase more than in the other.

    .venv/bin/python bench/stream_intake.py            # N=1000, 4 rounds each
    .venv/bin/python bench/stream_intake.py -n 2000 --rounds 3
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
from pathlib import Path
from typing import Any

from kafka import KafkaProducer

from base.complaints import start_complaint
from base.settings import Settings
from base.temporal import connect
from closeloop.stack import (
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
from closeloop.stack.services import temporal_command
from schemas import topics
from schemas.contract import examples_dir
from schemas.events import ComplaintReceived

EXAMPLE = json.loads(
    (examples_dir(topics.COMPLAINTS_RECEIVED) / "web-shop.json").read_text(encoding="utf-8")
)


def events(prefix: str, n: int) -> list[dict[str, Any]]:
    return [
        {**EXAMPLE, "event_id": str(uuid.uuid4()), "complaint_id": f"{prefix}{i:06d}"}
        for i in range(n)
    ]


async def wait_for_count(client: Any, prefix: str, n: int, limit_s: float) -> float:
    """Poll visibility until `n` workflows with `prefix` exist; returns the monotonic time."""
    deadline = time.monotonic() + limit_s
    query = f'WorkflowId STARTS_WITH "{prefix}"'
    while True:
        count = (await client.count_workflows(query)).count
        now = time.monotonic()
        if count >= n:
            return now
        if now > deadline:
            raise TimeoutError(f"only {count} of {n} workflows after {limit_s:.0f}s")
        await asyncio.sleep(0.05)


async def ceiling_round(client: Any, settings: Settings, n: int, concurrency: int) -> float:
    prefix = f"BC{uuid.uuid4().hex[:6]}-"
    complaints = [ComplaintReceived.model_validate(e) for e in events(prefix, n)]
    gate = asyncio.Semaphore(concurrency)

    async def start(complaint: ComplaintReceived) -> None:
        async with gate:
            await start_complaint(client, settings.task_queue, complaint)

    began = time.monotonic()
    # Poll visibility while starting, exactly as during a stream round: same load, same clock.
    counted = asyncio.create_task(wait_for_count(client, prefix, n, limit_s=600))
    await asyncio.gather(*(start(c) for c in complaints))
    ended = await counted
    return n / (ended - began)


async def stream_round(client: Any, producer: KafkaProducer, n: int) -> float:
    prefix = f"BS{uuid.uuid4().hex[:6]}-"
    batch = [(e["complaint_id"].encode(), json.dumps(e).encode("utf-8")) for e in events(prefix, n)]
    began = time.monotonic()
    for key, value in batch:
        producer.send(topics.COMPLAINTS_RECEIVED, key=key, value=value)
    producer.flush()
    ended = await wait_for_count(client, prefix, n, limit_s=600)
    return n / (ended - began)


async def measure(args: argparse.Namespace, home: Path) -> None:
    settings = Settings(
        home=home,
        temporal_address=f"127.0.0.1:{free_temporal_port()}",
        kafka_bootstrap=f"127.0.0.1:{free_port()}",
        database_url=f"sqlite:///{home / 'audit.db'}",
    )
    logs = home / "logs"
    if args.sqlite:
        parts = [start_temporal(settings, logs / "temporal.log")]
    else:  # in memory: the same command as the launcher's, without --db-filename
        command = temporal_command(settings)
        at = command.index("--db-filename")
        del command[at : at + 2]
        parts = [spawn("temporal", command, logs / "temporal.log")]
    parts.append(start_broker(settings, logs / "broker.log"))
    try:
        wait_for_temporal(settings.temporal_address, timeout=90, process=parts[0])
        register_search_attributes(settings)
        wait_for_broker(settings.kafka_bootstrap, process=parts[1])
        create_topics(settings.kafka_bootstrap)
        env = {
            **os.environ,
            "CLOSELOOP_HOME": str(home),
            "CLOSELOOP_TEMPORAL_ADDRESS": settings.temporal_address,
            "CLOSELOOP_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
            "CLOSELOOP_LOG_LEVEL": "warning",
            "CLOSELOOP_LOG_FORMAT": "json",
        }
        if args.lanes:
            env["CLOSELOOP_STREAM_LANES"] = str(args.lanes)
        stream = spawn(
            "stream", [sys.executable, "-m", "closeloop", "stream"], logs / "stream.log", env=env
        )
        parts.append(stream)
        client = await connect(settings, budget_s=30)
        producer = KafkaProducer(
            bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=5
        )

        print(f"warming up (consumer group join) on {settings.temporal_address} ...", flush=True)
        print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
        warm = time.monotonic()
        await stream_round(client, producer, 20)
        await ceiling_round(client, settings, 20, 8)
        print(f"ready after {time.monotonic() - warm:.1f}s", flush=True)
        if args.concurrency == 0:
            calibration = {}
            for level in (8, 16, 32, 64, 128):
                calibration[level] = await ceiling_round(client, settings, args.calibrate_n, level)
            args.concurrency = max(calibration, key=lambda level: calibration[level])
            shown = ", ".join(f"{level}: {rate:.1f}/s" for level, rate in calibration.items())
            print(f"client concurrency calibrated ({args.calibrate_n} starts each): {shown}")
        print(f"N={args.n} per round, client concurrency {args.concurrency}", flush=True)

        ceiling: list[float] = []
        streamed: list[float] = []
        for index in range(args.rounds * 2):
            first = index % 4 in (0, 3)  # ceiling, stream, stream, ceiling, ...
            if first:
                rate = await ceiling_round(client, settings, args.n, args.concurrency)
                ceiling.append(rate)
            else:
                rate = await stream_round(client, producer, args.n)
                streamed.append(rate)
            name = "ceiling (client)" if first else "stream (Kafka)  "
            print(f"  round {index + 1}: {name} {rate:8.1f} workflows/s", flush=True)
        producer.close()

        best_ceiling, best_stream = statistics.mean(ceiling), statistics.mean(streamed)
        print()
        print(
            f"ceiling: Temporal client, {args.concurrency} concurrent starts: "
            f"{best_ceiling:.1f} workflows/s (mean of {len(ceiling)})"
        )
        print(
            f"stream:  Kafka -> closeloop stream -> Temporal:    "
            f"{best_stream:.1f} workflows/s (mean of {len(streamed)})"
        )
        print(f"ratio stream/ceiling: {best_stream / best_ceiling:.2f} (target >= 0.90)")
        print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    finally:
        for part in reversed(parts):
            part.stop(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=1000, help="workflows per round")
    parser.add_argument("--rounds", type=int, default=4, help="rounds of each kind")
    parser.add_argument(
        "--concurrency",
        type=int,
        default=0,
        help="concurrent starts for the ceiling (default: calibrated, the fastest of 8..128)",
    )
    parser.add_argument("--calibrate-n", type=int, default=200, help="starts per calibration round")
    parser.add_argument("--lanes", type=int, default=0, help="CLOSELOOP_STREAM_LANES (default 32)")
    parser.add_argument(
        "--sqlite", action="store_true", help="Temporal on a SQLite file (default: in memory)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the state folder and logs")
    args = parser.parse_args()
    home = Path(tempfile.mkdtemp(prefix="closeloop-bench-intake-"))
    try:
        asyncio.run(measure(args, home))
    finally:
        if args.keep:
            print(f"state and logs kept in {home}")
        else:
            import shutil

            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
