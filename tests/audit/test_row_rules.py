"""Rows the append path and the checkpointer never write are refused by the database itself
(issue 11, attack 4): an entry at a far sequence number, and a checkpoint that is not the
next number, shrinks the tree or covers entries that do not exist. On SQLite and PostgreSQL,
without bypassing the triggers (what the writer role can do)."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from audit.store import AuditLog
from tests.audit.conftest import append_many, checkpoint, verify


def _insert(log: AuditLog, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    values = ", ".join(f":{name}" for name in row)
    with log.engine.begin() as connection:
        connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), row)


@pytest.fixture
def signed(audit_log: AuditLog, key: Ed25519PrivateKey) -> AuditLog:
    append_many(audit_log, 5)
    checkpoint(audit_log, key)
    return audit_log


def _entry_row(log: AuditLog, seq: int) -> dict[str, Any]:
    with log.engine.connect() as connection:
        row = dict(
            connection.execute(text("SELECT * FROM audit_entries WHERE seq = 5")).one()._mapping
        )
    return row | {"seq": seq, "idempotency_key": f"forged-{seq}"}


def _checkpoint_row(log: AuditLog, **changes: Any) -> dict[str, Any]:
    with log.engine.connect() as connection:
        row = dict(
            connection.execute(text("SELECT * FROM audit_checkpoints WHERE number = 1"))
            .one()
            ._mapping
        )
    return row | changes


@pytest.mark.parametrize("seq", [1_000_000, 7, 5])
def test_an_entry_at_any_seq_but_the_next_is_refused(
    signed: AuditLog, key: Ed25519PrivateKey, seq: int
) -> None:
    with pytest.raises(DBAPIError, match="audit entry refused: its seq is not the next one"):
        _insert(signed, "audit_entries", _entry_row(signed, seq))
    assert signed.count() == 5
    assert verify(signed, key).ok  # nothing got in, so nothing stops verification


@pytest.mark.parametrize(
    "changes",
    [
        {"number": 9},  # a far number
        {"number": 1},  # the same number again
        {"number": 2, "tree_size": 99},  # beyond the log
        {"number": 2, "tree_size": 3},  # the tree shrinks
    ],
)
def test_a_bogus_checkpoint_row_is_refused(
    signed: AuditLog, key: Ed25519PrivateKey, changes: dict[str, Any]
) -> None:
    with pytest.raises(DBAPIError, match=r"audit checkpoint refused|UNIQUE|duplicate key"):
        _insert(signed, "audit_checkpoints", _checkpoint_row(signed, **changes))
    assert len(signed.checkpoints()) == 1
    assert verify(signed, key).ok


def test_the_append_path_and_checkpointer_still_work(
    signed: AuditLog, key: Ed25519PrivateKey
) -> None:
    append_many(signed, 5, start=5)
    checkpoint(signed, key)
    assert verify(signed, key).ok
