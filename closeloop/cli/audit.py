"""`closeloop audit …`: what auditors use to read the audit log."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.table import Table

from audit.models import AuditEntry
from audit.store import AuditLog, EntryFilter
from closeloop.settings import load_settings


@click.group()
def audit() -> None:
    """Query, export and verify the audit log (CLOSELOOP_DATABASE_URL)."""


@audit.command("log")
@click.option("--complaint", "complaint_id", help="Only this complaint's entries.")
@click.option(
    "--json", "as_json", is_flag=True, help="JSON lines, one entry per line, for machines."
)
def log_command(complaint_id: str | None, as_json: bool) -> None:
    """Print audit entries in chain order, as a table or as JSON lines."""
    audit_log = AuditLog.from_url(load_settings().resolved_database_url)
    entries = audit_log.entries(EntryFilter(complaint_id=complaint_id))
    if as_json:
        for entry in entries:
            click.echo(entry.model_dump_json())
        return
    if not entries:
        click.echo("no audit entries" + (f" for complaint {complaint_id}" if complaint_id else ""))
        return
    Console().print(entries_table(entries))


def entries_table(entries: list[AuditEntry]) -> Table:
    table = Table(show_lines=False, header_style="bold")
    for column in ("seq", "recorded (UTC)", "complaint", "type", "actor", "reason", "data", "hash"):
        table.add_column(column, overflow="fold")
    for entry in entries:
        table.add_row(
            str(entry.seq),
            entry.recorded_at.strftime("%Y-%m-%d %H:%M:%S"),
            entry.complaint_id,
            entry.entry_type,
            entry.actor,
            entry.reason,
            json.dumps(entry.data, ensure_ascii=False, sort_keys=True)[:120],
            entry.entry_hash[:12],
        )
    return table


def register(main: click.Group) -> None:
    main.add_command(audit)
