"""`closeloop audit checkpoint|public-key|setup`: signing the log and setting it up.

`checkpoint` exits 1 when it refuses to sign a log that does not verify; a missing or
unusable key is 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from audit import note, tlog_checkpoint
from audit.checkpointer import CheckpointRefused
from audit.database import make_engine
from audit.signing import key_id, public_key_pem
from audit.store import AuditLog
from base.settings import load_settings
from closeloop import checkpointing
from closeloop.cli.audit.common import configured_key
from closeloop.cli.errors import CannotCheck
from closeloop.cli.exit_status import ExitStatus
from closeloop.logging import configure_logging


@click.command("checkpoint")
@click.option("--force", is_flag=True, help="Sign again even if no entry was added since.")
@click.option("--no-publish", is_flag=True, help="Store it only; do not publish to Kafka.")
def checkpoint_command(force: bool, no_publish: bool) -> None:
    """Sign a checkpoint of the log now, store it, and publish it to audit.checkpoints.v1.

    The worker also makes one every CLOSELOOP_AUDIT_CHECKPOINT_INTERVAL seconds (60) and
    after every CLOSELOOP_AUDIT_CHECKPOINT_ENTRIES entries (1,000). The entries are
    checked before they are signed: a log that does not verify is never signed. If the
    broker cannot be reached the checkpoint is still stored, and it is published by the
    next run (of the worker or of this command).
    """
    settings = load_settings()
    configure_logging(settings)  # to stderr: stdout is for the result
    configured_key(settings, create=True)  # a bad key setting: the usual clear error
    log = AuditLog.from_url(settings.resolved_database_url)
    try:
        checkpointer, _ = checkpointing.from_settings(log, settings, publish=not no_publish)
        result = checkpointer.checkpoint(force=force)
    except CheckpointRefused as exc:
        click.echo(f"error: not signing: {exc}", err=True)
        sys.exit(ExitStatus.REFUSED)
    made, latest = result.checkpoint, result.latest
    if made is not None:
        click.echo(
            f"signed {made.label}: root {made.root_hash}, "
            f"{made.to_json()['timestamp']}, key {made.checkpoint.key_id}"
        )
    elif latest is not None:
        click.echo(f"no new entries since {latest.label}; nothing to sign (--force signs again)")
    else:
        click.echo("the log is empty; nothing to sign")
    for publication in result.published:
        click.echo(
            f"published checkpoint {publication.number} to {publication.topic} "
            f"(partition {publication.partition}, offset {publication.offset})"
        )
    if result.publish_error:
        click.echo(
            f"warning: not published yet ({result.publish_error}); the checkpoint is stored "
            "and the next checkpoint run publishes it",
            err=True,
        )


@click.command("public-key")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the key to this file instead of printing it.",
)
@click.option(
    "--vkey",
    is_flag=True,
    help="Print the C2SP verifier key (origin+key id+key) that signed-note tools and "
    "witnesses take, instead of the PEM.",
)
def public_key_command(out: Path | None, vkey: bool) -> None:
    """Print the public key that verifies checkpoints (PEM), for auditors and witnesses.

    Its key id (the first 16 hex digits of SHA-256 over the raw 32-byte key) goes to
    stderr: give it to auditors through a second channel so they can check their copy.
    With --vkey it prints the same key as a C2SP verifier key under the log's origin
    (CLOSELOOP_AUDIT_ORIGIN), the form `closeloop audit witness --log-key` takes.
    """
    settings = load_settings()
    private = configured_key(settings)
    if private is None:
        raise CannotCheck(
            "no signing key yet: the first checkpoint creates it (`closeloop audit "
            "checkpoint`), or set CLOSELOOP_AUDIT_SIGNING_KEY"
        )
    pem = public_key_pem(private)
    if vkey:
        origin = settings.audit_origin or tlog_checkpoint.default_origin(private)
        pem = (note.vkey(origin, private.public_key()) + "\n").encode("utf-8")
    if out:
        out.write_bytes(pem)
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(pem.decode("utf-8"), nl=False)
    click.echo(f"key id {key_id(private)}", err=True)


@click.command("setup")
def setup_command() -> None:
    """Create the audit tables, the append-only triggers and (PostgreSQL) the roles.

    Idempotent. On PostgreSQL it creates `closeloop_writer` (INSERT and SELECT only) and
    `closeloop_auditor` (SELECT only) if missing and grants them on this database; run it
    as the database owner. Workers set this up themselves on start too.
    """
    log = AuditLog(make_engine(load_settings().resolved_database_url))
    done = log.create_schema()
    if done:
        for item in done:
            click.echo(f"created {item}")
    else:
        click.echo("already set up: tables, triggers and roles are in place")


COMMANDS = (checkpoint_command, public_key_command, setup_command)
