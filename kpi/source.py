"""Reading what is new in the audit log (live database) into a ledger, with lean queries."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from audit import database
from audit.store import AuditLog
from audit.tables import AuditEntryRow as T
from kpi.ledger import Ledger

BATCH = 5_000
_COLUMNS = (T.seq, T.complaint_id, T.entry_type, T.occurred_at, T.recorded_at, T.data, T.entry_hash)


def new_rows(log: AuditLog, after: int) -> Iterator[tuple[Any, ...]]:
    """Rows after `after` in seq order; keyset batches, so no long transaction is held.

    Plain DB-API cursors: the rows go straight into the fold, and SQLAlchemy's Row objects
    would cost as much as the fold itself on a million entries.
    """
    mark = "?" if log.engine.dialect.paramstyle == "qmark" else "%s"
    sql = (
        f"SELECT {', '.join(c.name for c in _COLUMNS)} FROM {T.__tablename__} "
        f"WHERE seq > {mark} ORDER BY seq LIMIT {BATCH}"
    )
    while True:
        raw = log.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(sql, (after,))
            batch = cursor.fetchall()
            cursor.close()
            raw.commit()  # end the read transaction: writers never wait for us
        finally:
            raw.close()
        yield from batch
        if len(batch) < BATCH:
            return
        after = batch[-1][0]


def still_matches(log: AuditLog, ledger: Ledger) -> bool:
    """The log still has the entry the ledger stopped at, with the same hash."""
    if ledger.size == 0:
        return True
    reader = database.reader(log.engine)
    with reader.connect() as connection:
        found = connection.execute(
            select(T.entry_hash).where(T.seq == ledger.facts.last_seq)
        ).scalar()
    return found == ledger.last_hash


def refresh(log: AuditLog, ledger: Ledger) -> Ledger:
    if not still_matches(log, ledger):
        if ledger.store is not None:
            ledger.store.close()
        ledger = Ledger()  # a different or rebuilt log: fold from the start
    ledger.extend(new_rows(log, ledger.facts.last_seq))
    return ledger
