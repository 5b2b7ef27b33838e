"""`closeloop audit …`: what auditors use to read, export and verify the audit log.

One module per concern: `reading` (log, timeline), `export`, `verification` (verify),
`checkpoints` (checkpoint, public-key, setup), `proofs` (proof, consistency),
`witness` and `incident`; `common`
holds what they share. The group imports them; none of them imports the group.

Reading commands (log, timeline, verify, proof, consistency, export) never write, so they
work with the SELECT-only `closeloop_auditor` role on PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy.exc import SQLAlchemyError

from closeloop.cli.audit import (
    checkpoints,
    export,
    incident,
    proofs,
    reading,
    verification,
    witness,
)
from closeloop.cli.audit.common import database_error, redacted
from closeloop.cli.errors import CannotCheck
from closeloop.cli.exit_status import ExitStatus


class AuditGroup(click.Group):
    """Turns failures that reach the group into the exit-status table, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SQLAlchemyError as exc:
            from base.settings import load_settings

            raise database_error(exc, redacted(load_settings().resolved_database_url)) from None
        except OSError as exc:
            where = f" {exc.filename}" if exc.filename else ""
            raise CannotCheck(f"cannot use{where}: {exc.strerror or exc}") from None
        except RecursionError:
            raise CannotCheck("input nested too deeply to read") from None


@click.group(cls=AuditGroup)
def audit() -> None:
    """Query, export and verify the audit log (CLOSELOOP_DATABASE_URL).

    Every entry is hash-chained to the one before and covered by Ed25519-signed Merkle
    checkpoints; `closeloop audit verify` checks all of it, and `closeloop audit export`
    writes a bundle with a standalone verifier for auditors.

    Exit statuses: 0 intact or done, 1 tampered or refused, 2 usage error or the log
    cannot be checked, 3 the database does not answer.
    """


for _module in (reading, export, verification, checkpoints, proofs, witness, incident):
    for _command in _module.COMMANDS:
        audit.add_command(_command)

__all__ = ["ExitStatus", "audit"]
