"""No log line carries complaint data, not even the traceback of a failed database write.

When PostgreSQL drops the worker's connection (a restart, a failover, an administrator ending
a backend), the audit activity fails and Temporal retries it. The failure is logged with its
traceback; SQLAlchemy would add the statement's `[parameters: …]` to it, which hold the
complaint's summary and the customer's name. The engines hide parameters, so the failure
is logged with ids only. Issue 8.10.
"""

from __future__ import annotations

import asyncio
import functools
import uuid

import psycopg
import pytest

from audit.store import EntryFilter
from tests.conftest import POSTGRES_ADMIN_URL, LocalStack, eventually
from tests.e2e.test_intake import complaint_event, publish_with_kafka_python

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

SECRET_SUMMARY = "Zanzibar-pelican-summary-7731"
SECRET_NAME = "Quillon Vantaborough"


def terminate_backends(database: str) -> int:
    """End every connection to `database` but ours, as an administrator would."""
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (database,),
        ).fetchall()
    return len(rows)


def full_logs(stack: LocalStack) -> str:
    return "\n".join(
        path.read_text(errors="replace") for path in sorted((stack.home / "logs").glob("*.log"))
    )


async def test_dropped_database_connections_leave_no_complaint_data_in_the_logs(
    postgres_stack: LocalStack,
) -> None:
    database = postgres_stack.database_url.rpartition("/")[2]
    ids = [f"PII-{uuid.uuid4().hex[:10]}" for _ in range(12)]
    events = []
    for complaint_id in ids:
        event = complaint_event(complaint_id)
        event["summary"] = f"{SECRET_SUMMARY} {complaint_id}"
        event["customer"] = {"id": "CUST-PII", "name": SECRET_NAME, "email": "q@example.com"}
        events.append(event)

    def recorded(complaint_id: str) -> int:
        """Read on a connection of our own that is closed again before the next drop."""
        audit_log = postgres_stack.audit_log()
        try:
            found = audit_log.entries(
                EntryFilter(complaint_id=complaint_id, entry_type="complaint.received")
            )
        finally:
            audit_log.dispose()
        return len(found)

    # After each complaint is recorded, end every connection: the worker's pooled one is
    # dead when the next complaint's entry is appended, so that append fails and is retried.
    terminated = 0
    for event in events:
        publish_with_kafka_python(postgres_stack, event)
        complaint_id = str(event["complaint_id"])
        count = await eventually(
            functools.partial(asyncio.to_thread, recorded, complaint_id), lambda n: n == 1
        )
        assert count == 1, postgres_stack.logs()
        terminated += await asyncio.to_thread(terminate_backends, database)
    assert terminated >= len(ids), "the worker's connections were not dropped"

    logs = full_logs(postgres_stack)
    failures = [line for line in logs.splitlines() if "AdminShutdown" in line]
    assert failures, "no append failed on a dropped connection: the test tested nothing"
    assert SECRET_SUMMARY not in logs
    assert SECRET_NAME not in logs
    assert "q@example.com" not in logs
