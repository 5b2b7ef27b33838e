"""Fixtures for the audit log: a log on each database, a signing key, realistic entries,
and a way to change history the way someone with full database access could."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, text

from audit import protection
from audit.checkpointer import Checkpointer
from audit.checkpoints import SignedCheckpoint
from audit.models import AuditEntry, NewEntry
from audit.store import AuditLog
from audit.verify import Report, verify_log
from closeloop.cli import main

T0 = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)

# A complaint's life as the workflow records it; varied text and data on purpose.
STEPS: list[tuple[str, str, str, dict[str, Any]]] = [
    ("complaint.received", "stream:intake", "Received from web-shop",
     {"channel": "web", "summary": "Mixer jar cracked — glass in food", "severity": None}),
    ("complaint.acknowledged", "workflow:complaint", "Acknowledged within 24 h",
     {"sla_hours": 24, "template": "ack-standard"}),
    ("complaint.triaged", "alice@example.com", "Major: possible injury",
     {"severity": "major", "tags": ["safety", "lot-42"], "score": 0.875}),
    ("investigation.started", "bob@example.com", "Lab analysis of returned jar",
     {"lab": "QA-Lab Nürnberg", "sample_ids": [101, 102]}),
    ("capa.opened", "bob@example.com", "Root cause: supplier tempering",
     {"capa_id": "CAPA-7", "due": "2026-04-01", "owner": {"team": "supplier-quality"}}),
]  # fmt: skip


def new_entry(i: int, *, complaint: str | None = None, key: str | None = None) -> NewEntry:
    entry_type, actor, reason, data = STEPS[i % len(STEPS)]
    return NewEntry(
        complaint_id=complaint or f"CMP-{1000 + i // len(STEPS)}",
        entry_type=entry_type,
        actor=actor,
        occurred_at=T0 + timedelta(minutes=7 * i),
        reason=reason,
        data={**data, "step": i},
        idempotency_key=key or f"wf-{i}/step",
    )


def append_many(log: AuditLog, count: int, *, start: int = 0) -> list[AuditEntry]:
    return [
        log.append(new_entry(i), now=T0 + timedelta(minutes=7 * i, seconds=2))
        for i in range(start, start + count)
    ]


@pytest.fixture
def audit_log(database_url: str) -> Iterator[AuditLog]:
    """An empty audit log, once on SQLite and once on PostgreSQL."""
    log = AuditLog.from_url(database_url)
    yield log
    log.dispose()


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def checkpoint(log: AuditLog, key: Ed25519PrivateKey, *, force: bool = False) -> SignedCheckpoint:
    """Sign a checkpoint of everything appended so far (the test expects a new one)."""
    result = Checkpointer(log, key).checkpoint(force=force)
    assert result.checkpoint is not None, "expected a new checkpoint"
    return result.checkpoint


def verify(log: AuditLog, key: Ed25519PrivateKey) -> Report:
    return verify_log(log, [key.public_key()])


@contextlib.contextmanager
def bypassing_triggers(log: AuditLog) -> Iterator[Connection]:
    """A transaction in which the append-only triggers do not fire.

    What a database superuser can do: on PostgreSQL `session_replication_role = replica`
    disables triggers for the session; on SQLite anyone with the file can drop them.
    """
    with log.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
            yield connection
            return
        names = connection.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        ).scalars()
        for name in list(names):
            connection.exec_driver_sql(f"DROP TRIGGER {name}")
        yield connection
        protection.install(connection)


STANDALONE = Path(__file__).resolve().parents[2] / "audit" / "standalone" / "verify.py"


@functools.cache
def load_standalone() -> ModuleType:
    """The standalone verifier as a module, to test its parts (it is shipped as a file)."""
    spec = importlib.util.spec_from_file_location("closeloop_standalone_verify", STANDALONE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_standalone(bundle: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The bundle's own verify.py, run as an auditor would: a separate Python process.

    Without --public-key it is run with --internal-consistency-only (these tests are about
    the checks, not about where the key came from; `test_standalone_trust.py` is).
    """
    trust = [] if "--public-key" in args else ["--internal-consistency-only"]
    return subprocess.run(
        [sys.executable, "verify.py", "--quiet", *trust, *args],
        cwd=bundle,
        capture_output=True,
        text=True,
        timeout=300,
    )


def audit_cli(*args: str) -> Result:
    """`closeloop audit ARGS` in-process, as the auditor types it."""
    return CliRunner().invoke(main, ["audit", *args])


@pytest.fixture
def cli_database(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The CLI's environment for one test: its own home (and key), this database, and no
    publishing to a broker that is not there. Returns the database URL."""
    monkeypatch.setenv("CLOSELOOP_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CLOSELOOP_DATABASE_URL", database_url)
    monkeypatch.delenv("CLOSELOOP_AUDIT_SIGNING_KEY", raising=False)
    monkeypatch.setenv("CLOSELOOP_AUDIT_PUBLISH_CHECKPOINTS", "false")
    return database_url
