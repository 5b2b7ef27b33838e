"""`closeloop audit …`: what auditors use to read, export and verify the audit log.

Reading commands (log, timeline, verify, proof, consistency, export) never write, so they
work with the SELECT-only `closeloop_auditor` role on PostgreSQL. This module holds the
group, the shared options and the reading of entries; `audit_integrity` holds verification,
checkpoints and proofs.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from audit import keys
from audit.export import CSV_COLUMNS, BundleExists, csv_row, export_bundle
from audit.signing import key_id
from audit.store import AuditLog, AuditLogMissing, EntryFilter, entry_document
from base.settings import Settings, load_settings

F = TypeVar("F", bound=Callable[..., Any])


@click.group()
def audit() -> None:
    """Query, export and verify the audit log (CLOSELOOP_DATABASE_URL).

    Every entry is hash-chained to the one before and covered by Ed25519-signed Merkle
    checkpoints; `closeloop audit verify` checks all of it, and `closeloop audit export`
    writes a bundle with a standalone verifier for auditors.
    """


# --- shared helpers ------------------------------------------------------------------------


def open_log(settings: Settings | None = None) -> AuditLog:
    """The existing audit log, read-only; a clear error instead of an empty new database."""
    settings = settings or load_settings()
    url = settings.resolved_database_url
    parsed = make_url(url)
    sqlite_file = parsed.database if parsed.drivername.startswith("sqlite") else None
    if sqlite_file not in (None, "", ":memory:") and not Path(str(sqlite_file)).exists():
        raise click.ClickException(
            f"no audit log at {parsed.database}: set CLOSELOOP_DATABASE_URL or "
            "CLOSELOOP_HOME to where the worker writes it"
        )
    try:
        return AuditLog.from_url(url, create=False)
    except AuditLogMissing as exc:
        raise click.ClickException(str(exc)) from None
    except SQLAlchemyError as exc:
        where = parsed.render_as_string(hide_password=True)
        raise click.ClickException(f"cannot open the audit log at {where}: {exc}") from None


class When(click.ParamType):
    """An ISO date (`2026-01-31`) or date-time; without an offset it is UTC."""

    name = "DATE[THH:MM[:SS]]"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime | date):
            return value
        text = str(value).strip()
        try:
            if len(text) == 10:
                return date.fromisoformat(text)
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            self.fail(f"{value!r} is not an ISO date (2026-01-31) or date-time", param, ctx)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _start_of(value: date | datetime | None, *, end: bool = False) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    # A bare date for --until includes that whole day.
    day = value + timedelta(days=1) if end else value
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def filter_options(command: F) -> F:
    """--complaint, --since, --until, --actor, --type, --text (all optional, combined)."""
    options = [
        click.option("--complaint", "complaint_id", metavar="ID", help="Only this complaint."),
        click.option(
            "--since", type=When(), help="Recorded at or after this (UTC unless an offset)."
        ),
        click.option(
            "--until",
            type=When(),
            help="Recorded before this; a bare date includes that whole day.",
        ),
        click.option("--actor", help="Only entries by this actor (exact)."),
        click.option("--type", "entry_type", metavar="TYPE", help="Only this entry type."),
        click.option("--text", help="Text in the reason or the data (case-insensitive)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def make_filter(
    complaint_id: str | None,
    since: date | datetime | None,
    until: date | datetime | None,
    actor: str | None,
    entry_type: str | None,
    text: str | None,
) -> EntryFilter:
    return EntryFilter(
        complaint_id=complaint_id,
        entry_type=entry_type,
        actor=actor,
        since=_start_of(since),
        until=_start_of(until, end=True),
        text=text,
    )


def console(stderr: bool = False) -> Console:
    """Rich output that stays readable in pipes and CI logs (rich assumes 80 columns there)."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or os.environ.get("COLUMNS") else 120
    return Console(file=stream, width=width)


# --- log and timeline ------------------------------------------------------------------------


@audit.command("log")
@filter_options
@click.option("--json", "as_json", is_flag=True, help="JSON lines, one entry per line, as hashed.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV with a header row, for spreadsheets.")
def log_command(as_json: bool, as_csv: bool, **filters: Any) -> None:
    """Print audit entries in chain order: a table, JSON lines or CSV.

    \b
    Examples:
      closeloop audit log --complaint CMP-1042
      closeloop audit log --since 2026-01-01 --until 2026-03-31 --type capa.opened
      closeloop audit log --actor alice@example.com --json > alice.jsonl
    """
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    where = make_filter(**filters)
    rows = open_log().iter_rows(where)
    if as_json:
        for row in rows:
            click.echo(json.dumps(entry_document(row), ensure_ascii=False, separators=(",", ":")))
        return
    if as_csv:
        write_csv((entry_document(row) for row in rows), sys.stdout)
        return
    documents = [entry_document(row) for row in rows]
    if not documents:
        click.echo("no audit entries" + _describe(where))
        return
    out = console()
    out.print(entries_table(documents, out.width))
    out.print(f"{len(documents)} entries{_describe(where)}", style="dim")


def write_csv(documents: Iterable[dict[str, Any]], stream: Any) -> None:
    writer = csv.writer(stream)
    writer.writerow(CSV_COLUMNS)
    for document in documents:
        writer.writerow(csv_row(document))


def entries_table(documents: list[dict[str, Any]], width: int) -> Table:
    """Fit the columns to the width: data and hash only when there is room for them."""
    table = Table(header_style="bold")
    table.add_column("seq", justify="right", no_wrap=True)
    table.add_column("recorded (UTC)", no_wrap=True)
    table.add_column("complaint", no_wrap=True, overflow="ellipsis", max_width=20)
    table.add_column("type", no_wrap=True, overflow="ellipsis", max_width=28)
    table.add_column("actor", no_wrap=True, overflow="ellipsis", max_width=24)
    table.add_column("reason", overflow="fold", ratio=2, min_width=20)
    show_data, show_hash = width >= 130, width >= 160
    if show_data:
        table.add_column("data", overflow="ellipsis", no_wrap=True, ratio=1, min_width=16)
    if show_hash:
        table.add_column("hash", no_wrap=True)
    for document in documents:
        cells = [
            str(document["seq"]),
            _short_time(document["recorded_at"]),
            document["complaint_id"],
            document["entry_type"],
            document["actor"],
            document["reason"],
        ]
        if show_data:
            cells.append(_data_summary(document["data"]))
        if show_hash:
            cells.append(str(document["entry_hash"])[:12])
        table.add_row(*cells, style=None)
    return table


def _short_time(text: str) -> str:
    return text[:19].replace("T", " ")  # 2026-11-26T03:40:00.000000Z -> 2026-11-26 03:40:00


def _data_summary(data: Any) -> str:
    if isinstance(data, dict):
        return ", ".join(f"{k}={_scalar(v)}" for k, v in data.items())
    return str(data)


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _describe(where: EntryFilter) -> str:
    parts = [f"{name}={value}" for name, value in vars(where).items() if value is not None]
    return f" matching {', '.join(parts)}" if parts else ""


@audit.command("timeline")
@click.argument("complaint_id")
def timeline_command(complaint_id: str) -> None:
    """A complaint's history, readable: what happened, when, by whom and why.

    Shows each entry in chain order with the time it occurred, the time since the previous
    step, the actor, the reason and the data. For machines use
    `closeloop audit log --complaint ID --json`.
    """
    documents = [
        entry_document(r) for r in open_log().iter_rows(EntryFilter(complaint_id=complaint_id))
    ]
    if not documents:
        raise click.ClickException(f"no audit entries for complaint {complaint_id}")
    out = console()
    first, last = documents[0]["occurred_at"], documents[-1]["occurred_at"]
    out.print(
        f"[bold]Complaint {complaint_id}[/bold]: {len(documents)} audit entries, "
        f"{_short_time(first)} to {_short_time(last)} UTC ({_duration(first, last)})",
        highlight=False,
    )
    previous: str | None = None
    for document in documents:
        occurred = document["occurred_at"]
        step = f" (+{_duration(previous, occurred)})" if previous else ""
        out.print()
        out.print(
            f"[bold]{_short_time(occurred)}[/bold]{step}  [cyan]{document['entry_type']}[/cyan]"
            f"  by {document['actor']}  [dim]#{document['seq']}[/dim]",
            highlight=False,
        )
        if document["reason"]:
            out.print(f"    {document['reason']}", highlight=False, markup=False)
        data = document["data"]
        for name, value in data.items() if isinstance(data, dict) else [("data", data)]:
            text = _scalar(value)
            if len(text) > 200:
                text = text[:199] + "…"
            out.print(f"    {name}: {text}", style="dim", highlight=False, markup=False)
        previous = occurred


def _duration(start: str, end: str) -> str:
    seconds = int((_parse(end) - _parse(start)).total_seconds())
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{sign}{days} d {hours} h"
    if hours:
        return f"{sign}{hours} h {minutes} min"
    if minutes:
        return f"{sign}{minutes} min {secs} s"
    return f"{sign}{secs} s"


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


# --- export ------------------------------------------------------------------------------------


@audit.command("export")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="A new (or empty) folder for the bundle.",
)
@filter_options
@click.option(
    "--public-key",
    "public_key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The public key to ship (PEM); default: the configured signing key's.",
)
def export_command(out: Path, public_key_file: Path | None, **filters: Any) -> None:
    """Write a verifiable bundle for auditors: entries, checkpoints, proofs, verify.py.

    The bundle holds the selected entries (JSON lines and CSV), every signed checkpoint,
    the chain of all entry hashes, consistency and inclusion proofs, the public key, and
    verify.py: a one-file verifier (Python standard library + cryptography) the auditor
    runs on their own machine: `cd DIR && python verify.py`. It exits 0 only when the
    bundle is intact. Filters select entries; the bundle always proves them against the
    whole signed log.
    """
    settings = load_settings()
    public_key = _public_key(settings, [public_key_file] if public_key_file else [])
    if public_key is None:
        raise click.ClickException(
            "no public key to ship: pass --public-key FILE (from `closeloop audit public-key`)"
        )
    where = make_filter(**filters)
    log = open_log(settings)
    try:
        result = export_bundle(
            log, out, public_key, where, progress=lambda message: click.echo(message, err=True)
        )
    except BundleExists as exc:
        raise click.ClickException(str(exc)) from None
    latest = result.latest.label if result.latest else "no checkpoint yet"
    click.echo(
        f"exported {result.entries} of {result.log_size} entries to {result.out} "
        f"(checkpoints: {result.checkpoints}, latest: {latest}; "
        f"inclusion proofs: {result.inclusion_proofs}; key {key_id(public_key)})"
    )
    click.echo(f"verify it with: cd {result.out} && python verify.py")


def _public_key(settings: Settings, files: list[Path]) -> Any:
    """The first of --public-key FILE, or the configured signing key's public half."""
    try:
        if files:
            return keys.load_public_key_file(files[0])
        private = keys.signing_key(settings.audit_signing_key, settings.home_dir, create=False)
    except keys.KeyConfigError as exc:
        raise click.ClickException(str(exc)) from None
    return private.public_key() if private else None


def audit_group() -> click.Group:
    """The `audit` group with the integrity commands, which import the group themselves."""
    from closeloop.cli import audit_integrity

    if "verify" not in audit.commands:
        audit_integrity.register(audit)
    return audit
