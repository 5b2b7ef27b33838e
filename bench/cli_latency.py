"""How much slower a `closeloop complaint …` command is than the least a client can do.

One run, one local stack (Temporal dev server in memory-backed SQLite, Tansu, worker, stream)
started here on free ports in a scratch CLOSELOOP_HOME, one complaint. Each command runs as a
new process, as an operator runs it, and so does its baseline: a Python script that imports
only `temporalio.client`, connects, and makes the same call (the `current_state` query, the
same visibility list query, the same `add_information` Update with a JSON payload), then
prints the raw JSON answer. Runs alternate ours, baseline, baseline, ours, … so load drifts
penalise neither; the ratio is of the medians. Target (issue 8, "Fast CLI"): at most 1.5.

    .venv/bin/python bench/cli_latency.py              # 7 runs of each
    .venv/bin/python bench/cli_latency.py --runs 15
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from base.complaints import start_complaint
from base.settings import Settings
from base.temporal import connect
from closeloop.cli.complaint.client import visibility_query
from closeloop.stack import free_port, free_temporal_port, start_stack
from schemas.decisions import STATE_QUERY, Decision
from schemas.events import Channel, ComplaintReceived, Customer, Product

BASELINE = f"""
import asyncio, json, os, sys
from temporalio.client import Client

async def main(address, what, complaint_id, argument):
    client = await Client.connect(address)
    if what == "show":
        answer = await client.get_workflow_handle(complaint_id).query({STATE_QUERY!r})
    elif what == "list":
        answer = [w.id async for w in client.list_workflows(argument, limit=200)]
    else:
        payload = {{"actor": {{"id": "bench"}}, "information": "bench"}}
        answer = await client.get_workflow_handle(complaint_id).execute_update(
            {Decision.ADD_INFORMATION.value!r}, payload, id=argument
        )
    print(json.dumps(answer)[:200])

asyncio.run(main(*sys.argv[1:]))
sys.stdout.flush()
os._exit(0)  # as the CLI does: the SDK's threads can crash a finalizing interpreter
"""


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:6])} failed ({done.returncode}):\n{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="closeloop-bench-cli-") as scratch:
        home = Path(scratch)
        settings = Settings(
            home=home,
            temporal_address=f"127.0.0.1:{free_temporal_port()}",
            kafka_bootstrap=f"127.0.0.1:{free_port()}",
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSELOOP_")}
        env.update(
            CLOSELOOP_HOME=str(home),
            CLOSELOOP_TEMPORAL_ADDRESS=settings.temporal_address,
            CLOSELOOP_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
            CLOSELOOP_LOG_FORMAT="json",
            CLOSELOOP_DEV_UNAUTHENTICATED="true",  # the decision is timed with `--actor`
        )
        os.environ.update(env)  # the stack's parts inherit it
        stack = start_stack(settings, echo=lambda line: None)
        try:
            complaint_id = asyncio.run(open_complaint(settings))
            measure(settings, env, complaint_id, args.runs)
        finally:
            stack.stop()


async def open_complaint(settings: Settings) -> str:
    client = await connect(settings)
    complaint = ComplaintReceived(
        event_id=uuid.uuid4(),
        occurred_at=datetime.now(UTC),
        source="bench",
        complaint_id=f"BENCH-{uuid.uuid4().hex[:8]}",
        customer=Customer(id="CUST-1", name="Ada"),
        product=Product(sku="KET-200", name="Kettle"),
        channel=Channel.WEB,
        summary="Kettle does not switch off",
        description="",
    )
    await start_complaint(client, settings.task_queue, complaint)
    handle = client.get_workflow_handle(complaint.complaint_id)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # answered by the worker once it has run the case
        try:
            await handle.query(STATE_QUERY)
            return complaint.complaint_id
        except Exception:  # not picked up yet
            await asyncio.sleep(0.2)
    raise SystemExit("the worker never answered the complaint's query")


def measure(settings: Settings, env: dict[str, str], complaint_id: str, runs: int) -> None:
    cli = [sys.executable, "-m", "closeloop", "complaint"]
    base = [sys.executable, "-c", BASELINE, settings.temporal_address]
    query = visibility_query()
    cases = {
        "complaint show": (
            lambda: [*cli, "show", complaint_id],
            lambda: [*base, "show", complaint_id, "-"],
        ),
        "complaint list": (
            lambda: [*cli, "list", "--limit", "200"],
            lambda: [*base, "list", "-", query],
        ),
        "complaint add-info (one Update)": (
            lambda: [
                *cli,
                *("add-info", complaint_id, "--actor", "bench", "--information", "bench"),
                *("--update-id", str(uuid.uuid4())),
            ],
            lambda: [*base, "update", complaint_id, str(uuid.uuid4())],
        ),
    }
    load = os.getloadavg()[0]
    print(f"{runs} runs each, alternating; load average {load:.2f}; {os.cpu_count()} cores")
    print(f"{'command':<34} {'ours (median)':>14} {'baseline':>10} {'ratio':>7}")
    for name, (ours_argv, baseline_argv) in cases.items():
        timed(ours_argv(), env)  # warm the file cache and the server's caches
        timed(baseline_argv(), env)
        ours: list[float] = []
        baseline: list[float] = []
        for run in range(runs):
            pair = [(ours, ours_argv), (baseline, baseline_argv)]
            for samples, argv in pair if run % 2 == 0 else reversed(pair):
                samples.append(timed(argv(), env))
        mine, theirs = statistics.median(ours), statistics.median(baseline)
        print(f"{name:<34} {mine:>12.3f} s {theirs:>8.3f} s {mine / theirs:>7.2f}")


if __name__ == "__main__":
    main()
