"""Engines for the audit database, with the locking each backend needs for one linear chain.

Appends are serialized so the chain never forks: on SQLite every write transaction begins
with BEGIN IMMEDIATE (the database's write lock); on PostgreSQL the append function below
takes a transaction-scoped advisory lock.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

# Any constant works; it only has to be the same for every writer of one database.
_APPEND_LOCK_KEY = 0x436C6F73  # "Clos"
_CHECKPOINT_LOCK_KEY = 0x436C6F74  # "Clot": checkpoints must not wait for appends
_SCHEMA_LOCK_KEY = 0x436C6F75  # "Clou": schema setup


def normalize_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and use the psycopg 3 driver we ship with."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine that never puts bound parameters into logs, errors or tracebacks.

    The parameters of an append are complaint text and actor names: personal data. With
    `hide_parameters` SQLAlchemy's error messages (`[parameters: …]`) and echo logs show
    `[SQL parameters hidden due to hide_parameters=True]` instead (issue 8, bug 10).
    """
    kwargs.setdefault("hide_parameters", True)
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": 60, "check_same_thread": False}, **kwargs
        )
        _serialize_sqlite_writers(engine)
        return engine
    # No pool_pre_ping: it costs a round trip per append. A connection that died with a
    # database restart fails one append, SQLAlchemy then drops the pool, and the activity's
    # retry (same idempotency key) succeeds on a fresh connection.
    return create_engine(url, **kwargs)


READ_ONLY_OPTION = "closeloop_read_only"


def reader(engine: Engine) -> Engine:
    """The same engine and pool, for reads: on SQLite they do not take the write lock."""
    return engine.execution_options(**{READ_ONLY_OPTION: True})


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


# PostgreSQL appends in one round trip, in autocommit: lock, idempotency check, head read,
# hash and insert run inside this function, and the advisory lock is released when the
# statement's implicit transaction commits. The function is VOLATILE, so in READ COMMITTED
# each query in it takes a fresh snapshot after the lock is granted and sees every append
# committed before. The hash input is built as `audit.canonical.fast_entry_bytes` builds
# it: members in their fixed RFC 8785 order, strings escaped by to_json() (which escapes
# exactly what RFC 8785 escapes: quote, backslash, \b \f \n \r \t, other controls as
# lower-case \u00xx), `p_data` already canonical from the client. Verification recomputes
# every hash in Python, so a disagreement could never pass unnoticed (the tests run both).
# Versioned name: a changed body gets a new function instead of silently keeping the old.
PG_APPEND_FUNCTION = "closeloop_audit_append_v1"
_PG_APPEND_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION @NAME@(
    p_complaint_id text, p_entry_type text, p_actor text, p_recorded_at text,
    p_occurred_at text, p_reason text, p_data text, p_idempotency_key text)
RETURNS TABLE (seq bigint, prev_hash varchar, entry_hash varchar, created boolean)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    v_seq bigint;
    v_prev varchar;
    v_hash varchar;
BEGIN
    PERFORM pg_advisory_xact_lock(@LOCK@);
    SELECT e.seq, e.prev_hash, e.entry_hash INTO v_seq, v_prev, v_hash
        FROM audit_entries e WHERE e.idempotency_key = p_idempotency_key;
    IF FOUND THEN
        RETURN QUERY SELECT v_seq, v_prev, v_hash, false;
        RETURN;
    END IF;
    SELECT e.seq, e.entry_hash INTO v_seq, v_prev
        FROM audit_entries e ORDER BY e.seq DESC LIMIT 1;
    IF NOT FOUND THEN
        v_seq := 0;
        v_prev := repeat('0', 64);
    END IF;
    v_seq := v_seq + 1;
    v_hash := encode(sha256(convert_to(
        '{"actor":' || to_json(p_actor)::text
        || ',"complaint_id":' || to_json(p_complaint_id)::text
        || ',"data":' || p_data
        || ',"entry_type":' || to_json(p_entry_type)::text
        || ',"idempotency_key":' || to_json(p_idempotency_key)::text
        || ',"occurred_at":' || to_json(p_occurred_at)::text
        || ',"prev_hash":' || to_json(v_prev)::text
        || ',"reason":' || to_json(p_reason)::text
        || ',"recorded_at":' || to_json(p_recorded_at)::text
        || ',"seq":' || v_seq::text || '}', 'UTF8')), 'hex');
    INSERT INTO audit_entries (seq, complaint_id, entry_type, actor, recorded_at, occurred_at,
                               reason, data, idempotency_key, prev_hash, entry_hash)
        VALUES (v_seq, p_complaint_id, p_entry_type, p_actor, p_recorded_at, p_occurred_at,
                p_reason, p_data, p_idempotency_key, v_prev, v_hash);
    RETURN QUERY SELECT v_seq, v_prev, v_hash, true;
END
$$
""".replace("@NAME@", PG_APPEND_FUNCTION).replace("@LOCK@", str(_APPEND_LOCK_KEY))


def install_functions(connection: Connection) -> list[str]:
    """Create the append function on PostgreSQL if it is missing; returns what was done."""
    if connection.dialect.name != "postgresql":
        return []
    exists = connection.execute(
        text("SELECT 1 FROM pg_proc WHERE proname = :name"), {"name": PG_APPEND_FUNCTION}
    ).first()
    if exists:
        return []
    connection.exec_driver_sql(_PG_APPEND_FUNCTION_SQL)
    return [f"function {PG_APPEND_FUNCTION}()"]


def lock_for_schema(connection: Connection) -> None:
    """Serialize schema setup: several workers starting at once on an empty PostgreSQL
    database would otherwise race on CREATE TABLE, and all but one would crash.

    SQLite serializes DDL with its write lock already.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})


def lock_for_checkpoint(connection: Connection) -> None:
    """Serialize checkpoint writers (numbers stay gap-free) without blocking appends.

    SQLite has one write lock, taken at BEGIN IMMEDIATE; the transaction is short.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHECKPOINT_LOCK_KEY}
        )


def _serialize_sqlite_writers(engine: Engine) -> None:
    """pysqlite's implicit transactions take the write lock too late to prevent forks.

    Take it at BEGIN instead (SQLAlchemy's documented recipe), and use WAL so readers and
    the auditor's queries do not block writers.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # Reads begin deferred: in WAL mode they then never block the writers.
        deferred = connection.get_execution_options().get(READ_ONLY_OPTION)
        connection.exec_driver_sql("BEGIN" if deferred else "BEGIN IMMEDIATE")
