"""The signer remembers what it signed outside the database (issue 11, attacks 1 and 2).

Someone with full database access deletes every checkpoint, rewrites an entry and
recomputes the chain forward, or deletes the latest checkpoints with the entries after
them. Read from the database alone, both logs look intact. The signer's own memory (a file
beside its key) makes the next checkpoint refuse, and `closeloop audit verify` on the
signer's machine fail, naming what is gone. Each case runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from audit.signer_memory import SignerMemory
from audit.store import AuditLog
from closeloop.cli.exit_status import ExitStatus
from tests.audit.conftest import append_many, audit_cli, bypassing_triggers
from tests.audit.test_tamper import rewrite_chain_consistently


@pytest.fixture
def signed(cli_database: str) -> Iterator[AuditLog]:
    """20 entries, checkpoints after 10 and 20, signed by `closeloop audit checkpoint`."""
    log = AuditLog.from_url(cli_database)
    append_many(log, 10)
    assert cli("checkpoint").exit_code == 0
    append_many(log, 10, start=10)
    assert cli("checkpoint").exit_code == 0
    assert cli("verify").exit_code == 0
    yield log
    log.dispose()


cli = audit_cli


def delete_checkpoints_and_rewrite(connection: Connection) -> None:
    connection.execute(text("DELETE FROM audit_checkpoint_publications"))
    connection.execute(text("DELETE FROM audit_checkpoint_notes"))
    connection.execute(text("DELETE FROM audit_checkpoints"))
    rewrite_chain_consistently(connection, None)  # type: ignore[arg-type]


def delete_latest_checkpoint_and_tail(connection: Connection) -> None:
    connection.execute(
        text("DELETE FROM audit_checkpoint_publications WHERE checkpoint_number = 2")
    )
    connection.execute(text("DELETE FROM audit_checkpoint_notes WHERE checkpoint_number = 2"))
    connection.execute(text("DELETE FROM audit_checkpoints WHERE number = 2"))
    connection.execute(text("DELETE FROM audit_entries WHERE seq > 10"))


ATTACKS: dict[str, tuple[Callable[[Connection], None], str, str]] = {
    # name: (the tampering, what `checkpoint` says, what `verify` says)
    "delete all checkpoints, rewrite and rechain": (
        delete_checkpoints_and_rewrite,
        "checkpoints were deleted",
        "witnessed checkpoint 2 (size 20): missing from the database",
    ),
    "delete the latest checkpoint with the entries after it": (
        delete_latest_checkpoint_and_tail,
        "checkpoints were deleted",
        "entries 11..20 missing",
    ),
}


@pytest.mark.parametrize("attack", ATTACKS)
def test_the_signer_refuses_to_sign_and_verify_fails(signed: AuditLog, attack: str) -> None:
    tamper, refusal, finding = ATTACKS[attack]
    with bypassing_triggers(signed) as connection:
        tamper(connection)

    refused = cli("checkpoint")
    assert refused.exit_code == ExitStatus.REFUSED, refused.output
    assert refusal in refused.output
    assert signed.latest_checkpoint() is None or signed.latest_checkpoint().number == 1  # type: ignore[union-attr]

    verified = cli("verify")
    assert verified.exit_code == ExitStatus.REFUSED, verified.output
    assert finding in verified.output
    assert "also checked against this signer's memory" in verified.output


def test_a_rewrite_that_keeps_the_checkpoints_is_refused_by_the_memory_too(
    signed: AuditLog,
) -> None:
    """Checkpoint rows kept, entries behind them rewritten: the stored root no longer fits."""
    with bypassing_triggers(signed) as connection:
        rewrite_chain_consistently(connection, None)  # type: ignore[arg-type]
    refused = cli("checkpoint")
    assert refused.exit_code == ExitStatus.REFUSED
    assert cli("verify").exit_code == ExitStatus.REFUSED


def test_the_memory_only_moves_forward_and_survives_as_a_file(
    signed: AuditLog, tmp_path: Path
) -> None:
    [memory_file] = (tmp_path / "home" / "keys").glob("audit-signer-*.json")
    memory = SignerMemory(memory_file)
    last = memory.last()
    assert last is not None and (last.number, last.tree_size) == (2, 20)
    first = signed.checkpoints()[0]
    memory.remember(first)  # an older checkpoint never replaces a later one
    assert memory.last() == last


def test_an_unreadable_memory_stops_signing_and_checking(signed: AuditLog, tmp_path: Path) -> None:
    [memory_file] = (tmp_path / "home" / "keys").glob("audit-signer-*.json")
    memory_file.write_text("[" * 100_000)
    append_many(signed, 1, start=20)
    refused = cli("checkpoint")
    assert refused.exit_code == ExitStatus.REFUSED and "signer's memory" in refused.output
    unchecked = cli("verify")
    assert unchecked.exit_code == ExitStatus.USAGE and "signer's memory" in unchecked.output
    assert "Traceback" not in refused.output + unchecked.output
