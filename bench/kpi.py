"""KPI speed over a large log: first computation, a repeat after 1,000 new entries, memory.

    .venv/bin/python bench/kpi.py                                  # 1,000,000 entries, SQLite
    .venv/bin/python bench/kpi.py --database-url postgresql://postgres@127.0.0.1:5432/test
    .venv/bin/python bench/kpi.py --entries 100000                 # a quick run

Builds about one complaint per 10 entries (received, acknowledged, triaged, investigated,
CAPA planned and completed, verified, closed, a survey, customer activity; shapes as the
workflow writes them), bulk-inserted with the chain computed in Python, in a child process
so that the peak memory printed is the computation's alone. Then times `kpi show`'s work
(fold every entry, compute every figure) from an empty cache, appends 1,000 entries and
times it again (the kept state under a scratch CLOSELOOP_HOME makes that proportional to
what is new), then recomputes everything without a kept state: the baseline the repeat is
compared with, and proof that its figures are the same. A PostgreSQL URL names the
server: the run uses a scratch database it drops.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from scratch import scratch_database  # bench/ is on sys.path when run as a script
from sqlalchemy import insert, select

from audit import canonical, jcs
from audit.store import AuditLog
from audit.tables import AuditEntryRow

# This script is named kpi.py too: take bench/ off the path so `kpi` is the package.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
service = importlib.import_module("kpi.service")

T0 = datetime(2025, 1, 1, tzinfo=UTC)
PRODUCTS = ["Mortgage", "Credit card", "Checking account", "Student loan", "Vehicle loan"]
CATEGORIES = ["billing", "fees", "fraud", "service", "reporting", "payments"]
CHANNELS = ["web", "phone", "email", "referral"]


def lifecycle(n: int, rng: random.Random) -> list[tuple[str, float, dict[str, Any]]]:
    """Ten entries of one complaint: (entry type, hours after receipt, data)."""
    cid = f"CMP-{n}"
    received = T0 + timedelta(minutes=5 * n)
    return [
        ("complaint.received", 0.0, {
            "event_id": f"ev-{n}", "source": "bench", "channel": rng.choice(CHANNELS),
            "customer_id": f"cust-{n % 70000}", "product_sku": rng.choice(PRODUCTS),
            "product_lot": None, "summary": "bench", "received_upstream_at": received.isoformat(),
        }),
        ("complaint.acknowledged", rng.uniform(0.1, 30), {"channel": "web", "customer_id": cid}),
        ("complaint.triaged", 40, {"decision": "triage", "input": {
            "category": rng.choice(CATEGORIES), "severity": rng.choice(["low", "high"])}}),
        ("complaint.investigated", 100, {"decision": "investigate", "input": {"final": True}}),
        ("capa.planned", 120, {"decision": "plan_capa", "input": {"actions": []}}),
        ("capa.action_completed", rng.uniform(200, 600), {"decision": "complete_action",
                                                         "input": {"action_id": "a1"}}),
        ("complaint.verified", 700, {"decision": "verify",
                                     "input": {"effective": rng.random() < 0.8}}),
        ("complaint.closed", rng.uniform(710, 1500), {"decision": "close", "input": {}}),
        ("complaint.survey", 1600, {"decision": "record_survey", "input": {
            "csat": rng.randint(1, 5), "nps": rng.randint(0, 10)}}),
        ("complaint.customer_activity", rng.uniform(1600, 3000), {
            "event_id": f"act-{n}", "activity": "purchase",
            "occurred_at": (received + timedelta(hours=2000)).isoformat(),
            "actor": {"id": "crm", "name": ""}}),
    ]  # fmt: skip


def append_bulk(url: str, first_complaint: int, entries: int) -> None:
    """Append `entries` entries (whole complaints) after the current head, chain computed."""
    log = AuditLog.from_url(url)
    rng = random.Random(first_complaint)
    with log.engine.begin() as connection:
        head = connection.execute(
            select(AuditEntryRow.seq, AuditEntryRow.entry_hash)
            .order_by(AuditEntryRow.seq.desc())
            .limit(1)
        ).first()
        seq, prev_hash = (head.seq, head.entry_hash) if head else (0, canonical.GENESIS_HASH)
        batch: list[dict[str, Any]] = []
        n = first_complaint
        while entries > 0:
            start = T0 + timedelta(minutes=5 * n)
            for entry_type, hours, data in lifecycle(n, rng)[:entries]:
                seq += 1
                when = canonical.format_time(start + timedelta(hours=hours))
                fields: dict[str, Any] = {
                    "seq": seq, "complaint_id": f"CMP-{n}", "entry_type": entry_type,
                    "actor": "bench", "recorded_at": when, "occurred_at": when, "reason": "",
                    "data": data, "idempotency_key": f"bench/{seq}", "prev_hash": prev_hash,
                }  # fmt: skip
                prev_hash = hashlib.sha256(canonical.fast_entry_bytes(**fields)).hexdigest()
                batch.append({**fields, "data": jcs.encode(data), "entry_hash": prev_hash})
                entries -= 1
                if len(batch) == 5000:
                    connection.execute(insert(AuditEntryRow), batch)
                    batch = []
            n += 1
        if batch:
            connection.execute(insert(AuditEntryRow), batch)
    log.dispose()


def compute(url: str, home: Path) -> tuple[float, int, dict[str, float | None]]:
    """`kpi show`'s work; prints the CPU seconds it took too (the machine is shared)."""
    started, cpu = time.perf_counter(), time.process_time()
    log = AuditLog.from_url(url, create=False)
    ledger, checkpoint = service.from_log(log, home, label=url)
    result = service.show(ledger, checkpoint)
    log.dispose()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"  ({cpu:.2f} CPU seconds in this process over {seconds:.2f} s)")
    return seconds, ledger.folded_now, result.rows[0].figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--build", nargs=3, metavar=("URL", "FIRST", "ENTRIES"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.build:
        append_bulk(args.build[0], int(args.build[1]), int(args.build[2]))
        return
    with scratch_database(args.database_url) as url, tempfile.TemporaryDirectory() as home:
        kind = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
        print(f"load average at start: {_load()} (1, 5, 15 min; the machine is shared)")
        started = time.perf_counter()
        me = [sys.executable, __file__, "--build"]
        subprocess.run([*me, url, "0", str(args.entries)], check=True)
        print(f"{kind}: built {args.entries:,} entries in {time.perf_counter() - started:.0f} s")
        seconds, folded, figures = compute(url, Path(home))
        print(f"first computation: {folded:,} entries in {seconds:.2f} s = "
              f"{folded / seconds:,.0f} entries/s")  # fmt: skip
        subprocess.run([*me, url, str(args.entries // 10 + 1), "1000"], check=True)
        first = seconds
        seconds, folded, again = compute(url, Path(home))
        print(f"repeated after 1,000 new entries: {seconds:.2f} s ({folded:,} entries folded); "
              f"{seconds / first:.3f} of the first computation")  # fmt: skip
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory: {peak:.0f} MB")
        print(f"load average at end: {_load()}")
        print(f"complaints_received {figures['complaints_received']:.0f} -> "
              f"{again['complaints_received']:.0f}; nps {again['nps']}")  # fmt: skip
        with tempfile.TemporaryDirectory() as elsewhere:  # no kept state: everything anew
            started = time.perf_counter()
            _, _, anew = compute(url, Path(elsewhere))
            print(f"full recomputation (the baseline): {time.perf_counter() - started:.2f} s; "
                  f"same figures as the repeat: {anew == again}")  # fmt: skip


def _load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
