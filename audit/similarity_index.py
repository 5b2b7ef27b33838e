"""The table of recent complaints that the similarity lookup compares with.

It lives in the audit database, so it survives restarts and every worker sees the same
complaints: a worker keeps its in-memory index (`base.similarity.index`) in step by reading
the rows after the last id it has. It is an index, not a record: the audit log's
`complaint.received` entries are the record. The customer is kept as a hash only.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, Float, Integer, String, Text, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from audit import database


class _Base(DeclarativeBase):
    pass


class SimilarityRow(_Base):
    __tablename__ = "similarity_index"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    complaint_id: Mapped[str] = mapped_column(String(64), unique=True)
    received_at: Mapped[float] = mapped_column(Float)  # POSIX seconds, UTC
    customer_key: Mapped[str] = mapped_column(String(64))
    product_sku: Mapped[str] = mapped_column(String(128))
    product_lot: Mapped[str | None] = mapped_column(String(128), nullable=True)
    text: Mapped[str] = mapped_column(Text)


TABLE = SimilarityRow.__tablename__


def create(connection: Connection) -> None:
    """Create the table if missing; `closeloop audit setup` and workers' start call this, so
    the writer role (which may not create tables) finds it there and granted."""
    _Base.metadata.create_all(connection, checkfirst=True)


@dataclass(frozen=True)
class IndexedRow:
    id: int
    complaint_id: str
    received_at: float
    customer_key: str
    product_sku: str
    product_lot: str | None
    text: str


class SimilarityTable:
    """Created on first use, not at a worker's start: a database role that may not create it
    (see README) costs the suggestions, never the worker."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._reader = database.reader(engine)  # on SQLite, reads never take the write lock
        self._created = False

    def ensure(self) -> None:
        if not self._created:
            _Base.metadata.create_all(self.engine, checkfirst=True)
            self._created = True

    def add(self, row: IndexedRow) -> bool:
        """Insert once per complaint (False when it was there: retries and other workers)."""
        values = {
            "complaint_id": row.complaint_id,
            "received_at": row.received_at,
            "customer_key": row.customer_key,
            "product_sku": row.product_sku,
            "product_lot": row.product_lot,
            "text": row.text,
        }
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(SimilarityRow).values(**values))
        except IntegrityError:
            return False
        return True

    def rows_after(self, last_id: int, limit: int = 10_000) -> list[IndexedRow]:
        query = (
            select(SimilarityRow).where(SimilarityRow.id > last_id).order_by(SimilarityRow.id)
        ).limit(limit)
        with self._reader.connect() as connection:
            return [
                IndexedRow(
                    r.id,
                    r.complaint_id,
                    r.received_at,
                    r.customer_key,
                    r.product_sku,
                    r.product_lot,
                    r.text,
                )
                for r in connection.execute(query)
            ]
