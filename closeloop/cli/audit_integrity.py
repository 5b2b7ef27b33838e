"""`closeloop audit verify|checkpoint|proof|consistency|public-key|setup`.

Exit codes of `verify`: 0 everything holds, 1 something was changed (the first bad entry
or checkpoint is named), 2 it could not be checked (no public key, unreadable input).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from audit import keys
from audit.checkpointer import Checkpointer, CheckpointRefused
from audit.checkpoints import SignedCheckpoint
from audit.database import make_engine
from audit.proofs import ProofUnavailable, consistency_proof, inclusion_proof
from audit.publish import CheckpointPublisher
from audit.signing import (
    CheckpointSignatureError,
    key_id,
    public_key_pem,
    verify_checkpoint_signature,
)
from audit.store import AuditLog
from audit.verify import Report, verify_log
from base.settings import Settings, load_settings
from closeloop.cli.audit import open_log
from closeloop.logging import configure_logging

EXIT_TAMPERED, EXIT_UNCHECKABLE = 1, 2
_SHOWN_PROBLEMS = 20


@click.command("verify")
@click.option(
    "--public-key",
    "public_key_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A trusted public key (PEM); repeat for rotated keys. "
    "Default: the configured signing key's public half.",
)
@click.option(
    "--witness",
    "witness_files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Checkpoints you kept (JSON lines, the audit.checkpoints.v1 format, e.g. consumed "
    "from the topic or from an earlier export); the log must agree with them too.",
)
@click.option("--json", "as_json", is_flag=True, help="The result as one JSON document.")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
def verify_command(
    public_key_files: tuple[Path, ...], witness_files: tuple[Path, ...], as_json: bool, quiet: bool
) -> None:
    """Recompute the whole log and check it against the signed checkpoints.

    From the first entry: every entry's hash, every chain link, seqs without gaps, the
    Merkle root at every checkpoint, every checkpoint's signature, a consistency proof
    between consecutive checkpoints, and that no signed entry is missing at the end.

    Exits 0 only when everything holds; otherwise 1, naming the first bad entry (its
    seq) or checkpoint and what is wrong. Exits 2 when it cannot check (no public key).
    """
    settings = load_settings()
    log = open_log(settings)
    public_keys = _trusted_keys(settings, public_key_files)
    witnessed = _read_witnesses(witness_files)
    if not public_keys and (log.latest_checkpoint() is not None or witnessed):
        click.echo(
            "error: no public key to check the checkpoint signatures with: pass --public-key "
            "FILE (get it with `closeloop audit public-key`) or set CLOSELOOP_AUDIT_SIGNING_KEY",
            err=True,
        )
        sys.exit(EXIT_UNCHECKABLE)
    report = verify_log(
        log, public_keys, witnessed=witnessed, progress=None if quiet else _progress_printer()
    )
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        _print_report(report, public_keys)
    sys.exit(0 if report.ok else EXIT_TAMPERED)


def _progress_printer() -> Any:
    started = time.perf_counter()

    def show(done: int, total: int) -> None:
        if total < 20_000:
            return  # small logs verify in a blink
        rate = done / max(time.perf_counter() - started, 1e-9)
        click.echo(f"verified {done:,} of {total:,} entries ({rate:,.0f}/s)", err=True)

    return show


def _print_report(report: Report, public_keys: list[Ed25519PublicKey]) -> None:
    trusted = ", ".join(key_id(k) for k in public_keys) or "none"
    click.echo(
        f"checked {_count(report.entries, 'entry', 'entries')}, "
        f"{_count(report.checkpoints, 'checkpoint')} and "
        f"{_count(report.consistency_proofs, 'consistency proof')} in {report.seconds:.2f} s "
        f"(trusted key: {trusted})"
    )
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    if report.problems:
        click.echo("problems:")
        for problem in report.problems[:_SHOWN_PROBLEMS]:
            click.echo(f"  {problem}")
        if len(report.problems) > _SHOWN_PROBLEMS:
            click.echo(f"  … and {len(report.problems) - _SHOWN_PROBLEMS} more (use --json)")
    click.echo(report.summary())


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else (many or one + 's')}"


def _trusted_keys(settings: Settings, files: tuple[Path, ...]) -> list[Ed25519PublicKey]:
    try:
        if files:
            return [keys.load_public_key_file(path) for path in files]
        private = keys.signing_key(settings.audit_signing_key, settings.home_dir, create=False)
    except keys.KeyConfigError as exc:
        raise click.ClickException(str(exc)) from None
    return [private.public_key()] if private else []


def _read_witnesses(files: tuple[Path, ...]) -> list[SignedCheckpoint]:
    witnessed = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                witnessed.append(SignedCheckpoint.from_json(json.loads(line)))
            except (ValueError, ValidationError) as exc:
                raise click.ClickException(
                    f"{path} line {number} is not an audit checkpoint: {exc}"
                ) from None
    return witnessed


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
    try:
        key = keys.signing_key(settings.audit_signing_key, settings.home_dir, create=True)
    except keys.KeyConfigError as exc:
        raise click.ClickException(str(exc)) from None
    assert key is not None
    publisher = None
    if settings.audit_publish_checkpoints and not no_publish:
        publisher = CheckpointPublisher(settings.kafka_bootstrap)
    log = AuditLog.from_url(settings.resolved_database_url)
    try:
        result = Checkpointer(log, key, publisher=publisher).checkpoint(force=force)
    except CheckpointRefused as exc:
        click.echo(f"error: not signing: {exc}", err=True)
        sys.exit(EXIT_TAMPERED)
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


@click.command("proof")
@click.argument("seq", type=int)
@click.option("--json", "as_json", is_flag=True, help="The proof as JSON (hex hashes).")
def proof_command(seq: int, as_json: bool) -> None:
    """Prove entry SEQ is in the tree the latest signed checkpoint commits to.

    Prints the entry's hash, its RFC 9162 leaf hash, the audit path (leaf to root) and the
    signed checkpoint; anyone can check it with an RFC 9162 verifier and the public key.
    """
    settings = load_settings()
    log = open_log(settings)
    try:
        proof = inclusion_proof(log, seq)
    except ProofUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(proof.to_json(), indent=2, ensure_ascii=False))
        return
    cp = proof.checkpoint
    click.echo(f"entry {seq} is included in {cp.label}")
    click.echo(f"  entry hash  {proof.entry['entry_hash']}")
    click.echo(f"  leaf hash   {proof.leaf_hash.hex()}   (SHA-256 of 0x00 + entry hash)")
    click.echo(f"  leaf index  {seq - 1}")
    click.echo(f"  tree size   {cp.tree_size}")
    click.echo(f"  root hash   {cp.root_hash}")
    click.echo(f"  signed at   {cp.to_json()['timestamp']} by key {cp.checkpoint.key_id}")
    click.echo(f"  signature   {cp.signature.hex()}   ({_signature_status(settings, cp)})")
    click.echo(f"  audit path, leaf to root ({len(proof.path)} hashes):")
    for element in proof.path:
        click.echo(f"    {element.hex()}")
    click.echo("verified: the path leads from this entry's leaf to the signed root")


@click.command("consistency")
@click.argument("old_size", type=int)
@click.argument("new_size", type=int, required=False)
@click.option("--json", "as_json", is_flag=True, help="The proof as JSON (hex hashes).")
def consistency_command(old_size: int, new_size: int | None, as_json: bool) -> None:
    """Prove the tree of NEW_SIZE entries only appended to the tree of OLD_SIZE entries.

    NEW_SIZE defaults to the latest checkpoint's size. The roots are those the signed
    checkpoints of these sizes carry, where there are any; otherwise they are computed
    from the log (and said to be unsigned).
    """
    settings = load_settings()
    log = open_log(settings)
    try:
        proof = consistency_proof(log, old_size, new_size)
    except ProofUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        click.echo(json.dumps(proof.to_json(), indent=2))
        return
    click.echo(f"the tree of {proof.new_size} entries extends the tree of {proof.old_size}")
    for size, root, cp in (
        (proof.old_size, proof.old_root, proof.old_checkpoint),
        (proof.new_size, proof.new_root, proof.new_checkpoint),
    ):
        signed = f"signed by {cp.label}" if cp else "not signed: computed from the log"
        click.echo(f"  root at size {size:<8} {root.hex()}   ({signed})")
    click.echo(f"  proof ({len(proof.path)} hashes):")
    for element in proof.path:
        click.echo(f"    {element.hex()}")
    click.echo("verified: the proof leads from the old root to the new root")


def _signature_status(settings: Settings, cp: SignedCheckpoint) -> str:
    try:
        private = keys.signing_key(settings.audit_signing_key, settings.home_dir, create=False)
    except keys.KeyConfigError:
        private = None
    if private is None:
        return "not checked here: no key configured"
    try:
        verify_checkpoint_signature(private.public_key(), cp.checkpoint, cp.signature)
    except CheckpointSignatureError:
        return "INVALID for the configured key"
    return "valid"


@click.command("public-key")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the PEM to this file instead of printing it.",
)
def public_key_command(out: Path | None) -> None:
    """Print the public key that verifies checkpoints (PEM), for auditors and witnesses.

    Its key id (the first 16 hex digits of SHA-256 over the raw 32-byte key) goes to
    stderr: give it to auditors through a second channel so they can check their copy.
    """
    settings = load_settings()
    try:
        private = keys.signing_key(settings.audit_signing_key, settings.home_dir, create=False)
    except keys.KeyConfigError as exc:
        raise click.ClickException(str(exc)) from None
    if private is None:
        raise click.ClickException(
            "no signing key yet: the first checkpoint creates it (`closeloop audit "
            "checkpoint`), or set CLOSELOOP_AUDIT_SIGNING_KEY"
        )
    pem = public_key_pem(private)
    if out:
        out.write_bytes(pem)
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(pem.decode("ascii"), nl=False)
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


def register(group: click.Group) -> None:
    for command in (
        verify_command,
        checkpoint_command,
        proof_command,
        consistency_command,
        public_key_command,
        setup_command,
    ):
        group.add_command(command)
