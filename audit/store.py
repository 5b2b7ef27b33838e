"""Appending to and reading from the audit log.

Appends are idempotent (the idempotency key returns the original entry) and serialized, so
concurrent workers produce one gap-free chain.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, Select, insert, or_, select

from audit import canonical
from audit.database import lock_for_append, make_engine
from audit.models import AuditEntry, NewEntry
from audit.tables import AuditEntryRow, Base


@dataclass(frozen=True)
class EntryFilter:
    """What an auditor narrows the log to; every field is optional."""

    complaint_id: str | None = None
    entry_type: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None


class AuditLog:
    """The append-only audit log on one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str, *, create: bool = True) -> AuditLog:
        log = cls(make_engine(url))
        if create:
            log.create_schema()
        return log

    def create_schema(self) -> None:
        Base.metadata.create_all(self.engine)

    def append(self, new: NewEntry, *, now: datetime | None = None) -> AuditEntry:
        """Append `new`, or return the entry already written under its idempotency key."""
        with self.engine.begin() as connection:
            lock_for_append(connection)
            existing = connection.execute(
                select(AuditEntryRow).where(AuditEntryRow.idempotency_key == new.idempotency_key)
            ).first()
            if existing is not None:
                return _to_entry(existing)
            head = connection.execute(
                select(AuditEntryRow.seq, AuditEntryRow.entry_hash)
                .order_by(AuditEntryRow.seq.desc())
                .limit(1)
            ).first()
            seq, prev_hash = (
                (head.seq + 1, head.entry_hash) if head else (1, canonical.GENESIS_HASH)
            )
            recorded_at = (now or datetime.now(UTC)).astimezone(UTC)
            fields = {
                "seq": seq,
                "complaint_id": new.complaint_id,
                "entry_type": new.entry_type,
                "actor": new.actor,
                "recorded_at": canonical.format_time(recorded_at),
                "occurred_at": canonical.format_time(new.occurred_at),
                "reason": new.reason,
                "data": json.loads(canonical.canonical_json(new.data)),
                "idempotency_key": new.idempotency_key,
                "prev_hash": prev_hash,
            }
            row = {
                **fields,
                "data": canonical.canonical_json(fields["data"]).decode("utf-8"),
                "entry_hash": canonical.entry_hash(fields),
            }
            connection.execute(insert(AuditEntryRow).values(**row))
            return _to_entry(row)

    def entries(self, where: EntryFilter | None = None) -> list[AuditEntry]:
        return list(self.iter_entries(where))

    def iter_entries(
        self, where: EntryFilter | None = None, *, batch_size: int = 5000
    ) -> Iterator[AuditEntry]:
        """Entries in chain order, streamed in batches so a large log fits in memory."""
        query = _filtered(select(AuditEntryRow), where or EntryFilter()).order_by(AuditEntryRow.seq)
        after = 0
        with self.engine.connect() as connection:
            while True:
                rows = connection.execute(
                    query.where(AuditEntryRow.seq > after).limit(batch_size)
                ).all()
                if not rows:
                    return
                for row in rows:
                    yield _to_entry(row)
                after = rows[-1].seq

    def count(self) -> int:
        with self.engine.connect() as connection:
            head = connection.execute(
                select(AuditEntryRow.seq).order_by(AuditEntryRow.seq.desc()).limit(1)
            ).scalar()
        return int(head or 0)


def _filtered(
    query: Select[tuple[AuditEntryRow]], where: EntryFilter
) -> Select[tuple[AuditEntryRow]]:
    if where.complaint_id:
        query = query.where(AuditEntryRow.complaint_id == where.complaint_id)
    if where.entry_type:
        query = query.where(AuditEntryRow.entry_type == where.entry_type)
    if where.actor:
        query = query.where(AuditEntryRow.actor == where.actor)
    if where.since:
        query = query.where(AuditEntryRow.recorded_at >= canonical.format_time(where.since))
    if where.until:
        query = query.where(AuditEntryRow.recorded_at < canonical.format_time(where.until))
    if where.text:
        pattern = f"%{where.text}%"
        query = query.where(
            or_(AuditEntryRow.reason.ilike(pattern), AuditEntryRow.data.ilike(pattern))
        )
    return query


def _to_entry(row: object) -> AuditEntry:
    get = row.__getitem__ if isinstance(row, dict) else lambda name: getattr(row, name)
    return AuditEntry(
        seq=get("seq"),
        complaint_id=get("complaint_id"),
        entry_type=get("entry_type"),
        actor=get("actor"),
        recorded_at=canonical.parse_time(get("recorded_at")),
        occurred_at=canonical.parse_time(get("occurred_at")),
        reason=get("reason"),
        data=json.loads(get("data")),
        idempotency_key=get("idempotency_key"),
        prev_hash=get("prev_hash"),
        entry_hash=get("entry_hash"),
    )
