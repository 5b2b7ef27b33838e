"""Append throughput of the audit log against plain INSERTs of the same rows, in one run.

    .venv/bin/python bench/audit_append.py                              # SQLite file
    .venv/bin/python bench/audit_append.py --database-url postgresql://postgres@127.0.0.1:5432/test

Both sides write the same rows one transaction per row (an activity appends one entry per
call) into tables with the same columns and indexes: the plain side into a copy of the
table without triggers, the audit side through `AuditLog.append`, which adds the
serializing lock, the idempotency check, the head read and the canonical hash. They run in
alternating blocks of 250 rows, so a shared machine's changing load hits both alike. A
PostgreSQL URL names the server: the run uses a scratch database it creates and drops.
"""

from __future__ import annotations

import argparse
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from scratch import scratch_database  # bench/ is on sys.path when run as a script
from sqlalchemy import Column, Index, MetaData, Table, insert
from sqlalchemy.engine import make_url

from audit import canonical
from audit.database import make_engine
from audit.models import NewEntry
from audit.store import AuditLog
from audit.tables import AuditEntryRow

T0 = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
BLOCK = 250


def entries(count: int) -> list[NewEntry]:
    """Realistic entries: five complaint steps with varied text and data."""
    steps: list[tuple[str, str, str, dict[str, Any]]] = [
        ("complaint.received", "stream:intake", "Received from web-shop", {"channel": "web"}),
        ("complaint.acknowledged", "workflow:complaint", "Acknowledged", {"sla_hours": 24}),
        ("complaint.triaged", "alice@example.com", "Major", {"severity": "major", "score": 0.8}),
        ("investigation.started", "bob@example.com", "Lab analysis", {"lab": "QA-Lab Nürnberg"}),
        ("capa.opened", "bob@example.com", "Root cause found", {"capa_id": "CAPA-7"}),
    ]
    result = []
    for i in range(count):
        entry_type, actor, reason, data = steps[i % len(steps)]
        result.append(
            NewEntry(
                complaint_id=f"CMP-{100000 + i // 5}",
                entry_type=entry_type,
                actor=actor,
                occurred_at=T0 + timedelta(seconds=i),
                reason=reason,
                data={**data, "step": i},
                idempotency_key=f"bench/{i}",
            )
        )
    return result


def plain_rows(news: list[NewEntry]) -> list[dict[str, object]]:
    """The rows the audit log would store, chained and hashed ahead of time."""
    rows, prev_hash = [], canonical.GENESIS_HASH
    for seq, new in enumerate(news, start=1):
        fields = {
            "seq": seq,
            "complaint_id": new.complaint_id,
            "entry_type": new.entry_type,
            "actor": new.actor,
            "recorded_at": canonical.format_time(new.occurred_at),
            "occurred_at": canonical.format_time(new.occurred_at),
            "reason": new.reason,
            "data": new.data,
            "idempotency_key": new.idempotency_key,
            "prev_hash": prev_hash,
        }
        prev_hash = canonical.entry_hash(fields)
        rows.append(
            {**fields, "data": canonical.canonical_json(new.data).decode(), "entry_hash": prev_hash}
        )
    return rows


def plain_table() -> Table:
    """The same columns and indexes as audit_entries, without the triggers."""
    columns = [
        Column(
            c.name,
            c.type,
            primary_key=c.primary_key,
            autoincrement=False,
            index=bool(c.index),
            unique=bool(c.unique),
        )
        for c in AuditEntryRow.__table__.columns
    ]
    index = Index("ix_bench_plain_complaint_seq", "complaint_id", "seq")
    return Table("bench_plain_entries", MetaData(), *columns, index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--rows", type=int, default=5000)
    args = parser.parse_args()

    news = entries(args.rows)
    rows = plain_rows(news)
    with scratch_database(args.database_url) as url:
        log = AuditLog.from_url(url)
        plain = plain_table()
        engine = make_engine(url)
        plain.metadata.create_all(engine)
        statement = insert(plain)

        # Alternate blocks of both, so a change in the machine's load hits both alike.
        plain_seconds = audit_seconds = 0.0
        for block in range(0, args.rows, BLOCK):
            started = time.perf_counter()
            for row in rows[block : block + BLOCK]:
                with engine.begin() as connection:
                    connection.execute(statement, row)
            plain_seconds += time.perf_counter() - started
            started = time.perf_counter()
            for new in news[block : block + BLOCK]:
                log.append(new)
            audit_seconds += time.perf_counter() - started

        assert log.count() == args.rows
        engine.dispose()
        log.dispose()

    backend = make_url(url).get_backend_name()
    plain_rate, audit_rate = args.rows / plain_seconds, args.rows / audit_seconds
    print(
        f"database: {backend}, {args.rows:,} rows, one transaction per row, one writer, "
        f"alternating blocks of {BLOCK}"
    )
    print(f"plain INSERT:      {plain_rate:8,.0f} rows/s  ({plain_seconds:.2f} s)")
    print(f"AuditLog.append:   {audit_rate:8,.0f} rows/s  ({audit_seconds:.2f} s)")
    print(f"ratio append/plain: {audit_rate / plain_rate:.2f}")
    print(f"load average during the run: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
