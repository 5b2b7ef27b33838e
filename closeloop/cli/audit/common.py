"""What every `closeloop audit …` command shares: opening the log, errors with the CLI's exit
statuses, the entry filters and the console.

Errors say which exit status they are (`closeloop/cli/exit_status.py`): a log that cannot
be opened or read is "cannot check" (2), never "tampered" (1); a database server that does
not answer is "unreachable" (3).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from rich.console import Console
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from audit import keys
from audit.store import AuditLog, AuditLogMissing, EntryFilter
from base.settings import Settings, load_settings
from closeloop.cli.errors import CannotCheck, Unreachable
from closeloop.cli.options import Day, When

F = TypeVar("F", bound=Callable[..., Any])


def database_error(exc: SQLAlchemyError, where: str) -> click.ClickException:
    """A database failure in the user's words, without SQL or bound parameters."""
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    if isinstance(exc, OperationalError) and not where.startswith("sqlite"):
        return Unreachable(f"the audit database at {where} does not answer: {reason}")
    return CannotCheck(f"cannot read the audit log at {where}: {reason}")


def redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def open_log(settings: Settings | None = None) -> AuditLog:
    """The existing audit log, read-only; a clear error instead of an empty new database."""
    settings = settings or load_settings()
    url = settings.resolved_database_url
    parsed = make_url(url)
    sqlite_file = parsed.database if parsed.drivername.startswith("sqlite") else None
    if sqlite_file not in (None, "", ":memory:") and not Path(str(sqlite_file)).exists():
        raise CannotCheck(
            f"no audit log at {parsed.database}: set CLOSELOOP_DATABASE_URL or "
            "CLOSELOOP_HOME to where the worker writes it"
        )
    try:
        return AuditLog.from_url(url, create=False)
    except AuditLogMissing as exc:
        raise CannotCheck(str(exc)) from None
    except SQLAlchemyError as exc:
        raise database_error(exc, redacted(url)) from None


def configured_key(settings: Settings, *, create: bool = False) -> Ed25519PrivateKey | None:
    """The signing key that settings name, or None; a bad key setting is exit 2."""
    try:
        return keys.signing_key(settings.audit_signing_key, settings.home_dir, create=create)
    except keys.KeyConfigError as exc:
        raise CannotCheck(str(exc)) from None


def filter_options(command: F) -> F:
    """--complaint, --since, --until, --actor, --type, --text (all optional, combined)."""
    options = [
        click.option("--complaint", "complaint_id", metavar="ID", help="Only this complaint."),
        click.option(
            "--since",
            type=When(Day.START),
            help="Recorded at or after this (UTC unless an offset; a bare date: its start).",
        ),
        click.option(
            "--until",
            type=When(Day.NEXT),
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
    since: datetime | None,
    until: datetime | None,
    actor: str | None,
    entry_type: str | None,
    text: str | None,
) -> EntryFilter:
    return EntryFilter(
        complaint_id=complaint_id,
        entry_type=entry_type,
        actor=actor,
        since=since,
        until=until,
        text=text,
    )


def describe(where: EntryFilter) -> str:
    parts = [f"{name}={value}" for name, value in vars(where).items() if value is not None]
    return f" matching {', '.join(parts)}" if parts else ""


def console(stderr: bool = False) -> Console:
    """Rich output that stays readable in pipes and CI logs (rich assumes 80 columns there)."""
    stream = sys.stderr if stderr else sys.stdout
    width = None if stream.isatty() or os.environ.get("COLUMNS") else 120
    return Console(file=stream, width=width)
