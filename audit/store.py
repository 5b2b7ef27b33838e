"""Appending to and reading from the audit log.

Appends are idempotent (the idempotency key returns the original entry) and serialized, so
concurrent workers produce one gap-free chain. Reads never write, so every read works with
the SELECT-only auditor role.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Select,
    bindparam,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
    union_all,
)
from sqlalchemy.exc import IntegrityError

from audit import canonical, database, protection, similarity_index
from audit.checkpoints import SignedCheckpoint
from audit.database import lock_for_checkpoint, lock_for_schema, make_engine
from audit.models import AuditEntry, NewEntry
from audit.signing import Checkpoint
from audit.tables import (
    AUDIT_TABLES,
    AuditEntryRow,
    Base,
    CheckpointCosignatureRow,
    CheckpointNoteRow,
    CheckpointPublicationRow,
    CheckpointRow,
)

_ENTRY_COLUMNS = tuple(AuditEntryRow.__table__.columns)
_T = AuditEntryRow
# The append's one read: the entry already written under this key (if any), and the head.
_HEAD = (
    select(_T.seq, _T.entry_hash, _T.idempotency_key).order_by(_T.seq.desc()).limit(1)
).subquery("head")
_KEY_AND_HEAD = union_all(
    select(_T.seq, _T.entry_hash, _T.idempotency_key).where(_T.idempotency_key == bindparam("key")),
    select(_HEAD),
)
_PG_APPEND = text(
    f"SELECT * FROM {database.PG_APPEND_FUNCTION}(:complaint_id, :entry_type, :actor, "
    ":recorded_at, :occurred_at, :reason, :data, :idempotency_key)"
)
_INSERT_ENTRY = insert(AuditEntryRow)


class AuditLogMissing(RuntimeError):
    """The database has no audit tables (wrong URL, or the log was never written)."""


@dataclass(frozen=True)
class EntryFilter:
    """What an auditor narrows the log to; every field is optional.

    `since` is inclusive and `until` exclusive, both on the recorded time (UTC). `text`
    matches a substring of the reason or of the data's JSON, case-insensitively for ASCII.
    """

    complaint_id: str | None = None
    entry_type: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    text: str | None = None

    def is_empty(self) -> bool:
        return not any(vars(self).values())


class AuditLog:
    """The append-only audit log on one database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._postgres = engine.dialect.name == "postgresql"
        self._reader = database.reader(engine)
        self._has_notes = False  # whether the checkpoint notes table exists (see _with_notes)
        # PostgreSQL appends are one statement in its own implicit transaction, on a pool
        # kept in autocommit (switching a pooled connection back and forth costs ~1 ms).
        self._autocommit = engine
        if self._postgres:
            self._autocommit = make_engine(
                engine.url.render_as_string(hide_password=False),
                isolation_level="AUTOCOMMIT",
                pool_reset_on_return=None,  # never a transaction left to roll back
            )

    @classmethod
    def from_url(cls, url: str, *, create: bool = True) -> AuditLog:
        """Open the log at `url`; with `create`, set up tables, triggers and roles first.

        Without `create`, refuse a database that has no audit tables (`AuditLogMissing`)
        instead of silently reading nothing: that is what read-only commands want.
        """
        log = cls(make_engine(url))
        if create:
            log.create_schema()
        else:
            log.check_schema()
        return log

    def create_schema(self) -> list[str]:
        """Create what is missing (idempotent); returns what was done."""
        with self.engine.begin() as connection:
            lock_for_schema(connection)
            missing = [t for t in AUDIT_TABLES if not inspect(connection).has_table(t)]
            if missing:
                Base.metadata.create_all(connection)
            done = [f"table {t}" for t in missing]
            if not inspect(connection).has_table(similarity_index.TABLE):
                similarity_index.create(connection)
                done.append(f"table {similarity_index.TABLE}")
            done += database.install_functions(connection)
            return done + protection.install(connection)

    def check_schema(self) -> None:
        with self._reader.connect() as connection:
            if not inspect(connection).has_table(AuditEntryRow.__tablename__):
                where = self.engine.url.render_as_string(hide_password=True)
                raise AuditLogMissing(f"no audit log at {where}: the audit tables do not exist")

    @property
    def url(self) -> str:
        """The database URL, password included: for worker processes that open it again."""
        return self.engine.url.render_as_string(hide_password=False)

    def dispose(self) -> None:
        self.engine.dispose()
        self._autocommit.dispose()

    # --- writing ---------------------------------------------------------------------------

    def append(self, new: NewEntry, *, now: datetime | None = None) -> AuditEntry:
        """Append `new`, or return the entry already written under its idempotency key."""
        return self.record(new, now=now)[0]

    def record(self, new: NewEntry, *, now: datetime | None = None) -> tuple[AuditEntry, bool]:
        """`append`, also saying whether this call wrote the entry (False: it existed).

        A retried activity, on whichever worker, finds its key and gets False: callers that
        count what happened (business metrics) count each entry exactly once.
        """
        # Canonicalize before taking the lock: the lock is held by one writer at a time.
        data_text = canonical.canonical_json(new.data).decode("utf-8")
        data = json.loads(data_text)
        recorded_at = canonical.format_time((now or datetime.now(UTC)).astimezone(UTC))
        fields: dict[str, Any] = {
            "complaint_id": new.complaint_id,
            "entry_type": new.entry_type,
            "actor": new.actor,
            "recorded_at": recorded_at,
            "occurred_at": canonical.format_time(new.occurred_at),
            "reason": new.reason,
            "data": data,
            "idempotency_key": new.idempotency_key,
        }
        if self._postgres:
            return self._append_postgresql(fields, data_text)
        with self.engine.begin() as connection:
            # The transaction began with BEGIN IMMEDIATE: it holds SQLite's write lock.
            found = connection.execute(_KEY_AND_HEAD, {"key": new.idempotency_key}).all()
            if any(row.idempotency_key == new.idempotency_key for row in found):
                return self._by_key(connection, new.idempotency_key), False
            head = max(found, key=lambda row: row.seq, default=None)
            if head is None:
                seq, prev_hash = 1, canonical.GENESIS_HASH
            else:
                seq, prev_hash = head.seq + 1, head.entry_hash
            fields.update(seq=seq, prev_hash=prev_hash)
            row = {**fields, "data": data_text, "entry_hash": canonical.entry_hash(fields)}
            connection.execute(_INSERT_ENTRY, row)
        return _to_entry(row), True

    def _append_postgresql(self, fields: dict[str, Any], data_text: str) -> tuple[AuditEntry, bool]:
        """One round trip: the database function locks, checks, chains, hashes, inserts."""
        with self._autocommit.connect() as connection:
            result = connection.execute(_PG_APPEND, {**fields, "data": data_text}).one()
            if not result.created:
                return self._by_key(connection, fields["idempotency_key"]), False
        row = {
            **fields,
            "seq": result.seq,
            "prev_hash": result.prev_hash,
            "data": data_text,
            "entry_hash": result.entry_hash,
        }
        return _to_entry(row), True

    @staticmethod
    def _by_key(connection: Connection, idempotency_key: str) -> AuditEntry:
        original = connection.execute(
            select(*_ENTRY_COLUMNS).where(_T.idempotency_key == idempotency_key)
        ).one()
        return _to_entry(original)

    def store_checkpoint(
        self,
        checkpoint: Checkpoint,
        signature: bytes,
        *,
        allow_same_size: bool = False,
        note: str | None = None,
    ) -> SignedCheckpoint | None:
        """Store a signed checkpoint as the next number, unless it would add nothing.

        Returns None when the latest stored checkpoint is larger, or as large and
        `allow_same_size` is false (another checkpointer got there first): the list of
        checkpoints never shrinks and never repeats itself by accident.
        """
        with self.engine.begin() as connection:
            lock_for_checkpoint(connection)
            latest = connection.execute(
                select(CheckpointRow.number, CheckpointRow.tree_size)
                .order_by(CheckpointRow.number.desc())
                .limit(1)
            ).first()
            if latest is not None and (
                latest.tree_size > checkpoint.tree_size
                or (latest.tree_size == checkpoint.tree_size and not allow_same_size)
            ):
                return None
            signed = SignedCheckpoint(
                number=(latest.number + 1) if latest else 1,
                checkpoint=checkpoint,
                signature=signature,
                note=note,
            )
            connection.execute(insert(CheckpointRow), signed.to_row())
            if note is not None:
                connection.execute(
                    insert(CheckpointNoteRow), {"checkpoint_number": signed.number, "note": note}
                )
        return signed

    def record_publication(
        self, number: int, *, topic: str, partition: int, offset: int, when: datetime
    ) -> None:
        """Note that the broker acknowledged checkpoint `number` (once; repeats ignored)."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(CheckpointPublicationRow),
                    {
                        "checkpoint_number": number,
                        "topic": topic,
                        "partition": partition,
                        "offset": offset,
                        "published_at": canonical.format_time(when),
                    },
                )
        except IntegrityError:
            pass  # another worker published it too: witnesses dedupe by number

    def unpublished_checkpoints(self) -> list[SignedCheckpoint]:
        """Stored checkpoints the broker has not acknowledged yet, oldest first."""
        published = select(CheckpointPublicationRow.checkpoint_number)
        with self._reader.connect() as connection:
            return self._read_checkpoints(
                connection, CheckpointRow.number, where=CheckpointRow.number.not_in(published)
            )

    def newest_published_number(self) -> int:
        """The highest checkpoint number the broker ever acknowledged (0: none)."""
        with self._reader.connect() as connection:
            newest = connection.execute(
                select(func.max(CheckpointPublicationRow.checkpoint_number))
            ).scalar()
        return int(newest or 0)

    def rows_of_type(self, entry_type: str) -> list[tuple[int, str, str]]:
        """(seq, reason, stored data text) of every entry of one type, in seq order."""
        query = select(_T.seq, _T.reason, _T.data).where(_T.entry_type == entry_type)
        with self._reader.connect() as connection:
            return [(r.seq, r.reason, r.data) for r in connection.execute(query.order_by(_T.seq))]

    def store_cosignature(self, number: int, witness: str, line: str) -> None:
        """Keep a witness's cosignature line on checkpoint `number` (once per witness)."""
        try:
            with self.engine.begin() as connection:
                connection.execute(
                    insert(CheckpointCosignatureRow),
                    {"checkpoint_number": number, "witness": witness, "line": line},
                )
        except IntegrityError:
            pass  # the same witness cosigned it for another checkpointer: one line is enough

    # --- reading ---------------------------------------------------------------------------

    def entries(self, where: EntryFilter | None = None) -> list[AuditEntry]:
        return list(self.iter_entries(where))

    def iter_entries(
        self, where: EntryFilter | None = None, *, batch_size: int = 5000
    ) -> Iterator[AuditEntry]:
        """Entries in chain order, streamed in batches so a large log fits in memory."""
        for row in self.iter_rows(where, batch_size=batch_size):
            yield _to_entry(row)

    def iter_rows(
        self, where: EntryFilter | None = None, *, batch_size: int = 5000, after: int = 0
    ) -> Iterator[Row[Any]]:
        """Stored rows (times and data as the stored text) in seq order, after `after`.

        Keyset pagination: each batch is a short query, so a long read never holds a
        transaction open against the writers.
        """
        query = _filtered(select(*_ENTRY_COLUMNS), where or EntryFilter()).order_by(_T.seq)
        with self._reader.connect() as connection:
            while True:
                rows = connection.execute(query.where(_T.seq > after).limit(batch_size)).all()
                yield from rows
                if len(rows) < batch_size:
                    return
                after = rows[-1].seq

    def iter_row_batches(
        self, *, after: int = 0, upto: int | None = None, batch_size: int = 10_000
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Every stored row with `after < seq <= upto`, as plain tuples, a batch at a time.

        For verification, which reads every row: the driver's own cursor hands out tuples
        at about twice the rate of SQLAlchemy rows. Columns as in `audit_entries`
        (`_ENTRY_COLUMNS`); keyset pagination as `iter_rows`.
        """
        mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
        names = ", ".join(column.name for column in _ENTRY_COLUMNS)
        bound = f" AND seq <= {int(upto)}" if upto is not None else ""
        sql = (
            f"SELECT {names} FROM {_T.__tablename__} WHERE seq > {mark}{bound} "
            f"ORDER BY seq LIMIT {int(batch_size)}"
        )
        with self._reader.connect() as connection:
            connection.exec_driver_sql("SELECT 1")  # begins the (read) transaction
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                while True:
                    cursor.execute(sql, (after,))
                    rows = cursor.fetchall()
                    if rows:
                        yield rows
                    if len(rows) < batch_size:
                        return
                    after = rows[-1][0]
            finally:
                cursor.close()

    def get(self, seq: int) -> AuditEntry | None:
        with self._reader.connect() as connection:
            row = connection.execute(select(*_ENTRY_COLUMNS).where(_T.seq == seq)).first()
        return _to_entry(row) if row else None

    def entry_hashes(self, *, after: int = 0, upto: int | None = None) -> list[tuple[int, str]]:
        """(seq, stored entry hash) in seq order: all a Merkle tree needs, and cheap to read."""
        query = select(_T.seq, _T.entry_hash).where(_T.seq > after).order_by(_T.seq)
        if upto is not None:
            query = query.where(_T.seq <= upto)
        with self._reader.connect() as connection:
            return [(seq, entry_hash) for seq, entry_hash in connection.execute(query)]

    def count(self) -> int:
        """The head's seq: the number of entries in an untampered log."""
        with self._reader.connect() as connection:
            head = connection.execute(select(_T.seq).order_by(_T.seq.desc()).limit(1)).scalar()
        return int(head or 0)

    def checkpoints(self) -> list[SignedCheckpoint]:
        """Every stored checkpoint, oldest first."""
        with self._reader.connect() as connection:
            return self._read_checkpoints(connection, CheckpointRow.number)

    def latest_checkpoint(self) -> SignedCheckpoint | None:
        with self._reader.connect() as connection:
            latest = self._read_checkpoints(connection, CheckpointRow.number.desc(), limit=1)
        return latest[0] if latest else None

    def _read_checkpoints(
        self, connection: Connection, order: Any, *, where: Any = None, limit: int | None = None
    ) -> list[SignedCheckpoint]:
        """Checkpoints with their notes, each note followed by the witnesses' cosignatures."""
        query = self._with_notes(connection)
        if where is not None:
            query = query.where(where)
        query = query.order_by(order)
        if limit is not None:
            query = query.limit(limit)
        found = [SignedCheckpoint.from_row(row) for row in connection.execute(query)]
        if not self._has_notes or not found:
            return found
        number = CheckpointCosignatureRow.checkpoint_number
        cosignatures = select(number, CheckpointCosignatureRow.line).order_by(
            number, CheckpointCosignatureRow.witness
        )
        if limit is not None or where is not None:
            cosignatures = cosignatures.where(number.in_([cp.number for cp in found]))
        lines: dict[int, str] = {}
        for checkpoint_number, line in connection.execute(cosignatures):
            lines[checkpoint_number] = lines.get(checkpoint_number, "") + line
        return [
            dataclasses.replace(cp, note=cp.note + lines[cp.number])
            if cp.note is not None and cp.number in lines
            else cp
            for cp in found
        ]

    def _with_notes(self, connection: Connection) -> Select[Any]:
        """Checkpoint rows with their signed note, if the log has the notes table yet.

        A read-only command on a log written before notes existed finds no such table; its
        checkpoints then simply have no note.
        """
        if not self._has_notes:  # looked up until found: a table is never dropped
            self._has_notes = inspect(connection).has_table(CheckpointNoteRow.__tablename__)
        if not self._has_notes:
            return select(CheckpointRow)
        joined = cast("Select[Any]", select(CheckpointRow, CheckpointNoteRow.note))
        return joined.outerjoin(
            CheckpointNoteRow,
            CheckpointNoteRow.checkpoint_number == CheckpointRow.number,
        )


def _filtered(query: Select[Any], where: EntryFilter) -> Select[Any]:
    if where.complaint_id:
        query = query.where(_T.complaint_id == where.complaint_id)
    if where.entry_type:
        query = query.where(_T.entry_type == where.entry_type)
    if where.actor:
        query = query.where(_T.actor == where.actor)
    if where.since:
        query = query.where(_T.recorded_at >= canonical.format_time(where.since))
    if where.until:
        query = query.where(_T.recorded_at < canonical.format_time(where.until))
    if where.text:
        escaped = where.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            or_(_T.reason.ilike(pattern, escape="\\"), _T.data.ilike(pattern, escape="\\"))
        )
    return query


def entry_document(row: Any) -> dict[str, Any]:
    """A stored row as JSON, exactly as hashed (times as the stored text) plus `entry_hash`.

    This is the line format of `entries.jsonl` in export bundles and of `audit log --json`.
    """
    document = {name: getattr(row, name) for name in (*canonical.HASHED_FIELDS, "entry_hash")}
    # Data tampered beyond JSON stays the text it is; verification reports it.
    with contextlib.suppress(ValueError):
        document["data"] = json.loads(row.data)
    return document


def _to_entry(row: Any) -> AuditEntry:
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
