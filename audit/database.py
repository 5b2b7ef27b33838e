"""Engines for the audit database, with the locking each backend needs for one linear chain."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url

# Any constant works; it only has to be the same for every writer of one database.
_APPEND_LOCK_KEY = 0x436C6F73  # "Clos"


def normalize_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and use the psycopg 3 driver we ship with."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url, connect_args={"timeout": 60, "check_same_thread": False}, **kwargs
        )
        _serialize_sqlite_writers(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def lock_for_append(connection: Connection) -> None:
    """Serialize appends inside the current transaction so the chain never forks.

    PostgreSQL: a transaction-scoped advisory lock. SQLite: the transaction already began
    with BEGIN IMMEDIATE (see `_serialize_sqlite_writers`), which holds the write lock.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _APPEND_LOCK_KEY})


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
        connection.exec_driver_sql("BEGIN IMMEDIATE")
