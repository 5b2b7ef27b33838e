"""SQLAlchemy tables of the audit log (SQLite and PostgreSQL).

Times are stored as fixed-width RFC 3339 UTC text (`audit.canonical.format_time`) so that
what is read back is byte-for-byte what was hashed or signed, on every database. Every
table is append-only: `audit.protection` installs the triggers that refuse changes.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

SEQ_TYPE = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    pass


class AuditEntryRow(Base):
    """One entry of the hash chain; `seq` is gap-free from 1 and is the Merkle leaf index + 1."""

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(SEQ_TYPE, primary_key=True, autoincrement=False)
    complaint_id: Mapped[str] = mapped_column(String(64), index=True)
    entry_type: Mapped[str] = mapped_column(String(64), index=True)
    actor: Mapped[str] = mapped_column(String(128), index=True)
    recorded_at: Mapped[str] = mapped_column(String(32), index=True)
    occurred_at: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    data: Mapped[str] = mapped_column(Text)
    idempotency_key: Mapped[str] = mapped_column(String(255), unique=True)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)

    __table_args__ = (Index("ix_audit_entries_complaint_seq", "complaint_id", "seq"),)


class CheckpointRow(Base):
    """A signed checkpoint; `number` is gap-free from 1, in signing order."""

    __tablename__ = "audit_checkpoints"

    number: Mapped[int] = mapped_column(SEQ_TYPE, primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(SEQ_TYPE)
    root_hash: Mapped[str] = mapped_column(String(64))
    timestamp: Mapped[str] = mapped_column(String(32))
    key_id: Mapped[str] = mapped_column(String(16))
    signature: Mapped[str] = mapped_column(String(128))  # 64 bytes as lower-case hex


class CheckpointNoteRow(Base):
    """The C2SP signed note of a checkpoint (`audit.tlog_checkpoint`), stored beside it.

    A table of its own so that logs made before notes existed need no migration: their
    checkpoints simply have none.
    """

    __tablename__ = "audit_checkpoint_notes"

    checkpoint_number: Mapped[int] = mapped_column(
        SEQ_TYPE, ForeignKey("audit_checkpoints.number"), primary_key=True, autoincrement=False
    )
    note: Mapped[str] = mapped_column(Text)


class CheckpointCosignatureRow(Base):
    """A witness's cosignature on a checkpoint's note (`audit.witness_client`)."""

    __tablename__ = "audit_checkpoint_cosignatures"

    checkpoint_number: Mapped[int] = mapped_column(
        SEQ_TYPE, ForeignKey("audit_checkpoints.number"), primary_key=True, autoincrement=False
    )
    witness: Mapped[str] = mapped_column(String(255), primary_key=True)
    line: Mapped[str] = mapped_column(Text)  # the note signature line, newline included


class CheckpointPublicationRow(Base):
    """A checkpoint the broker acknowledged: the outbox that makes publishing retryable.

    A separate append-only table, because checkpoints themselves are never updated.
    """

    __tablename__ = "audit_checkpoint_publications"

    checkpoint_number: Mapped[int] = mapped_column(
        SEQ_TYPE, ForeignKey("audit_checkpoints.number"), primary_key=True, autoincrement=False
    )
    topic: Mapped[str] = mapped_column(String(255))
    partition: Mapped[int] = mapped_column(Integer)
    offset: Mapped[int] = mapped_column(SEQ_TYPE)
    published_at: Mapped[str] = mapped_column(String(32))


AUDIT_TABLES = (
    AuditEntryRow.__tablename__,
    CheckpointRow.__tablename__,
    CheckpointNoteRow.__tablename__,
    CheckpointCosignatureRow.__tablename__,
    CheckpointPublicationRow.__tablename__,
)
