"""Bound parameters (complaint text, actor names) never reach an error message, a log line or
a traceback: the engines hide them (issue 8, bug 10)."""

from __future__ import annotations

import logging
import time
import traceback

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from audit.database import normalize_url
from audit.store import AuditLog
from tests.audit.conftest import T0, append_many, new_entry

SECRET = "Mrs Jane Roe, 12 Secret Lane: the jar cut her hand"


def _everything_said_about(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def test_a_refused_statement_does_not_show_its_parameters(
    audit_log: AuditLog, caplog: pytest.LogCaptureFixture
) -> None:
    append_many(audit_log, 2)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DBAPIError) as refused, audit_log.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_entries SET reason = :reason WHERE seq = 1"), {"reason": SECRET}
        )
    said = _everything_said_about(refused.value)
    assert "parameters hidden" in said
    assert SECRET not in said and SECRET not in caplog.text


def test_a_dropped_connection_during_an_append_does_not_show_the_entry(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL only: SQLite has no server connection that an administrator can end."""
    database_url = postgres_url
    log = AuditLog.from_url(database_url)
    log.append(new_entry(0), now=T0)  # pooled connections now exist
    admin = create_engine(normalize_url(database_url), isolation_level="AUTOCOMMIT")
    others = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    with admin.connect() as connection:
        connection.execute(text(f"SELECT pg_terminate_backend(pid) {others}"))
        deadline = time.monotonic() + 30
        while connection.execute(text(f"SELECT count(*) {others}")).scalar_one():
            assert time.monotonic() < deadline, "the backends did not end"
            time.sleep(0.05)
    caplog.set_level(logging.DEBUG)
    entry = new_entry(1).model_copy(update={"reason": SECRET, "actor": "jane.roe@example.com"})
    with pytest.raises(DBAPIError) as dropped:
        log.append(entry, now=T0)
    said = _everything_said_about(dropped.value)
    assert SECRET not in said and "jane.roe" not in said
    assert SECRET not in caplog.text
    log.append(entry, now=T0)  # the retry succeeds on a fresh connection
    log.dispose()
    admin.dispose()
