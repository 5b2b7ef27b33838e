"""`closeloop audit incident SEQ`: acknowledge one bad entry so signing goes on past it.

The procedure and why it is safe are in `audit.incidents` and the README ("Incident: an
entry that does not verify"). Exit 1 when the entry has nothing to acknowledge.
"""

from __future__ import annotations

import sys

import click
from sqlalchemy import select

from audit import canonical, incidents
from audit.store import AuditLog
from audit.tables import AuditEntryRow
from base.settings import load_settings
from closeloop.cli.audit.common import configured_key
from closeloop.cli.errors import CannotCheck
from closeloop.cli.exit_status import ExitStatus


@click.command("incident")
@click.argument("seq", type=click.IntRange(min=1))
@click.option(
    "--reason",
    required=True,
    help="What the investigation found (who wrote the entry, how); kept in the log for ever.",
)
def incident_command(seq: int, reason: str) -> None:
    """Acknowledge entry SEQ, whose stored data is not canonical, after investigating it.

    Appends an `audit.incident` entry signed with the log's key (CLOSELOOP_AUDIT_SIGNING_KEY
    or the key under CLOSELOOP_HOME). From then on checkpoints are signed past that entry
    and `closeloop audit verify` and the bundle's verify.py report it as an acknowledged
    incident on every run instead of failing. Only an entry's own data can be acknowledged:
    a broken chain, a wrong hash or a missing entry never is.
    """
    if not reason.strip():
        raise click.BadParameter("say what the investigation found", param_hint="--reason")
    settings = load_settings()
    key = configured_key(settings)
    if key is None:
        raise CannotCheck("no signing key here: run this where the log's key is configured")
    log = AuditLog.from_url(settings.resolved_database_url, create=False)
    row = _row(log, seq)
    if row is None:
        raise CannotCheck(f"there is no entry {seq}")
    data, entry_hash = row
    try:
        finding = canonical.non_canonical_reason(data)
    except (ValueError, RecursionError):
        finding = "its data is not JSON"
    if finding is None:
        click.echo(f"entry {seq} is stored canonically: there is nothing to acknowledge", err=True)
        sys.exit(ExitStatus.REFUSED)
    entry = log.append(
        incidents.acknowledgment(
            key, seq=seq, entry_hash=entry_hash, finding=finding, reason=reason.strip()
        )
    )
    click.echo(
        f"acknowledged entry {seq} in entry {entry.seq}; the next checkpoint signs past it "
        "(`closeloop audit checkpoint`), and verify reports it as an acknowledged incident"
    )


def _row(log: AuditLog, seq: int) -> tuple[str, str] | None:
    """(stored data text, stored entry hash) of entry `seq`, as stored."""
    with log.engine.connect() as connection:
        found = connection.execute(
            select(AuditEntryRow.data, AuditEntryRow.entry_hash).where(AuditEntryRow.seq == seq)
        ).first()
    return (found.data, found.entry_hash) if found else None


COMMANDS = (incident_command,)
