"""The database itself refuses to change history: triggers on both databases, and on
PostgreSQL a writer role that may only INSERT and SELECT and an auditor role that may only
SELECT."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from audit.database import normalize_url
from audit.protection import AUDITOR_ROLE, WRITER_ROLE
from audit.signing import public_key_pem
from audit.similarity_index import IndexedRow, SimilarityTable
from audit.store import AuditLog
from closeloop.cli import main
from tests.audit.conftest import append_many, checkpoint, new_entry

CHANGES = {
    "update an entry": "UPDATE audit_entries SET reason = 'changed' WHERE seq = 1",
    "delete an entry": "DELETE FROM audit_entries WHERE seq = 2",
    "delete every entry": "DELETE FROM audit_entries",
    "update a checkpoint": "UPDATE audit_checkpoints SET tree_size = 1",
    "delete a checkpoint": "DELETE FROM audit_checkpoints",
    "delete a publication": "DELETE FROM audit_checkpoint_publications",
}


@pytest.fixture
def written_log(audit_log: AuditLog, key: Ed25519PrivateKey) -> AuditLog:
    append_many(audit_log, 3)
    checkpoint(audit_log, key)
    audit_log.record_publication(
        1, topic="audit.checkpoints.v1", partition=0, offset=0, when=new_entry(0).occurred_at
    )
    return audit_log


@pytest.mark.clause("21 CFR 11.10(c)")
@pytest.mark.parametrize("statement", CHANGES.values(), ids=CHANGES.keys())
def test_triggers_refuse_changes_through_a_normal_connection(
    written_log: AuditLog, statement: str
) -> None:
    refused = pytest.raises(DBAPIError, match="audit log is append-only")
    with refused, written_log.engine.begin() as connection:
        connection.exec_driver_sql(statement)
    assert written_log.count() == 3
    assert len(written_log.checkpoints()) == 1


@pytest.mark.clause("21 CFR 11.10(c)")
@pytest.mark.parametrize("table", ["audit_entries", "audit_checkpoints"])
def test_postgresql_refuses_truncate(postgres_url: str, table: str) -> None:
    log = AuditLog.from_url(postgres_url)
    append_many(log, 2)
    refused = pytest.raises(DBAPIError, match=f"append-only: TRUNCATE on {table} refused")
    with refused, log.engine.begin() as connection:
        connection.exec_driver_sql(f"TRUNCATE {table} CASCADE")
    assert log.count() == 2


def test_setup_is_idempotent(audit_log: AuditLog) -> None:
    assert audit_log.create_schema() == []
    assert AuditLog.from_url(audit_log.engine.url.render_as_string(False)).create_schema() == []


# --- PostgreSQL roles ---------------------------------------------------------------------


def _as_role(url: str, role: str) -> str:
    return make_url(normalize_url(url)).set(username=role, password=None).render_as_string(False)


@pytest.fixture
def pg_log(postgres_url: str, key: Ed25519PrivateKey) -> Iterator[AuditLog]:
    log = AuditLog.from_url(postgres_url)
    append_many(log, 5)
    checkpoint(log, key)
    yield log
    log.dispose()


def _refused(url: str, statement: str) -> str:
    engine = create_engine(url)
    try:
        with pytest.raises(DBAPIError) as refused, engine.begin() as connection:
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()
    return str(refused.value)


WRITES = {
    "insert": "INSERT INTO audit_checkpoint_publications VALUES (1, 't', 0, 0, 'now')",
    "update": "UPDATE audit_entries SET reason = 'x'",
    "delete": "DELETE FROM audit_entries",
    "truncate": "TRUNCATE audit_entries",
}


@pytest.mark.parametrize("statement", WRITES.values(), ids=WRITES.keys())
def test_auditor_role_cannot_write(pg_log: AuditLog, postgres_url: str, statement: str) -> None:
    message = _refused(_as_role(postgres_url, AUDITOR_ROLE), statement)
    assert "permission denied" in message


@pytest.mark.clause("21 CFR 11.10(c)")
@pytest.mark.parametrize("statement", [WRITES["update"], WRITES["delete"], WRITES["truncate"]])
def test_writer_role_cannot_change_or_remove(
    pg_log: AuditLog, postgres_url: str, statement: str
) -> None:
    assert "permission denied" in _refused(_as_role(postgres_url, WRITER_ROLE), statement)


def test_writer_role_appends_and_checkpoints(
    pg_log: AuditLog, postgres_url: str, key: Ed25519PrivateKey
) -> None:
    """Workers connect as the writer: setup on start is a no-op, appends work."""
    writer = AuditLog.from_url(_as_role(postgres_url, WRITER_ROLE))
    try:
        entry = writer.append(new_entry(5))
        again = writer.append(new_entry(5))
        checkpoint(writer, key)
    finally:
        writer.dispose()
    assert entry.seq == again.seq == 6
    assert pg_log.latest_checkpoint() is not None
    assert pg_log.latest_checkpoint().tree_size == 6  # type: ignore[union-attr]


def test_writer_role_feeds_the_similarity_index_that_setup_created(
    pg_log: AuditLog, postgres_url: str
) -> None:
    """The writer may not create tables: setup creates the index and grants it, so the
    workers' lookup at intake works with only the writer's rights."""
    writer = AuditLog.from_url(_as_role(postgres_url, WRITER_ROLE))
    try:
        table = SimilarityTable(writer.engine)
        row = IndexedRow(0, "C-SIM-1", 1.0, "k" * 64, "sku-1", None, "kettle leaks")
        assert table.add(row)
        assert [r.complaint_id for r in table.rows_after(0)] == ["C-SIM-1"]
    finally:
        writer.dispose()


def test_auditor_role_reads_and_verifies_through_the_cli(
    pg_log: AuditLog, postgres_url: str, key: Ed25519PrivateKey, tmp_path, monkeypatch
) -> None:
    key_file = tmp_path / "public_key.pem"
    key_file.write_bytes(public_key_pem(key))
    monkeypatch.setenv("CLOSELOOP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CLOSELOOP_DATABASE_URL", _as_role(postgres_url, AUDITOR_ROLE))
    runner = CliRunner()

    listed = runner.invoke(main, ["audit", "log", "--json"])
    verified = runner.invoke(main, ["audit", "verify", "--public-key", str(key_file)])
    exported = runner.invoke(
        main, ["audit", "export", "--out", str(tmp_path / "b"), "--public-key", str(key_file)]
    )
    proof = runner.invoke(main, ["audit", "proof", "2"])

    assert listed.exit_code == 0, listed.output
    assert [json.loads(line)["seq"] for line in listed.output.splitlines()] == [1, 2, 3, 4, 5]
    assert verified.exit_code == 0, verified.output
    assert "OK: 5 entries intact" in verified.output
    assert exported.exit_code == 0, exported.output
    assert proof.exit_code == 0, proof.output


def test_roles_exist_once_per_cluster_and_are_granted_per_database(
    postgres_url: str, pg_log: AuditLog
) -> None:
    """A second database on the same cluster reuses the roles and gets its own grants."""
    from tests.conftest import create_postgres_database, drop_postgres_database

    other = create_postgres_database()
    try:
        AuditLog.from_url(other).dispose()
        engine = create_engine(_as_role(other, AUDITOR_ROLE))
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM audit_entries")).scalar() == 0
        engine.dispose()
    finally:
        drop_postgres_database(other)
