"""`closeloop audit verify`: recompute the whole log and check it against its checkpoints.

Exit statuses (`closeloop/cli/exit_status.py`): 0 everything holds, 1 something was changed
(the first bad entry or checkpoint is named), 2 it could not be checked (no public key, an
unreadable log or witness file), 3 the database does not answer.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import click
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from audit import keys
from audit.checkpoints import SignedCheckpoint
from audit.cosignature import Cosigner
from audit.note import NoteError
from audit.signer_memory import SignerMemory, SignerMemoryError
from audit.signing import key_id
from audit.verify import Report, verify_log
from base.settings import Settings, load_settings
from closeloop.cli.audit.common import configured_key, open_log
from closeloop.cli.errors import CannotCheck
from closeloop.cli.exit_status import ExitStatus

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
@click.option(
    "--witness-key",
    "witness_keys",
    multiple=True,
    metavar="VKEY",
    help="A witness you trust, as its verifier key (`closeloop audit witness --print-key`); "
    "repeat for several. The latest checkpoint must carry their cosignatures.",
)
@click.option(
    "--cosignatures",
    "required",
    type=click.IntRange(min=1),
    metavar="K",
    help="How many of the --witness-key witnesses must have cosigned the latest checkpoint "
    "(default: all of them).",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    help="Processes that recompute the entries' hashes, each a share of the log; 0 means "
    "one per CPU. The rules are applied in one place either way, so the findings are the "
    "same; more jobs only finish a long log sooner.",
)
@click.option("--json", "as_json", is_flag=True, help="The result as one JSON document.")
@click.option("--quiet", is_flag=True, help="No progress on stderr.")
def verify_command(
    public_key_files: tuple[Path, ...],
    witness_files: tuple[Path, ...],
    witness_keys: tuple[str, ...],
    required: int | None,
    jobs: int,
    as_json: bool,
    quiet: bool,
) -> None:
    """Recompute the whole log and check it against the signed checkpoints.

    From the first entry: every entry's hash, every chain link, seqs without gaps, the
    Merkle root at every checkpoint, every checkpoint's signature, a consistency proof
    between consecutive checkpoints, and that no signed entry is missing at the end.

    Exits 0 only when everything holds; otherwise 1, naming the first bad entry (its
    seq) or checkpoint and what is wrong. Exits 2 when it cannot check (no public key).
    """
    settings = load_settings()
    cosigners = _cosigners(witness_keys)
    if required is not None and required > len(cosigners):
        raise click.BadParameter(
            f"{required} cosignatures required but only {len(cosigners)} --witness-key given",
            param_hint="--cosignatures",
        )
    log = open_log(settings)
    public_keys = _trusted_keys(settings, public_key_files)
    witnessed = _read_witnesses(witness_files)
    remembered = _signer_memories(settings, public_keys)
    witnessed += remembered
    if not public_keys and (log.latest_checkpoint() is not None or witnessed):
        click.echo(
            "error: no public key to check the checkpoint signatures with: pass --public-key "
            "FILE (get it with `closeloop audit public-key`) or set CLOSELOOP_AUDIT_SIGNING_KEY",
            err=True,
        )
        sys.exit(ExitStatus.USAGE)
    report = verify_log(
        log,
        public_keys,
        witnessed=witnessed,
        cosigners=cosigners,
        required_cosignatures=len(cosigners) if required is None else required,
        progress=None if quiet else _progress_printer(),
        jobs=jobs or os.cpu_count() or 1,
    )
    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        for cp in remembered:
            click.echo(f"also checked against this signer's memory of its last {cp.label}")
        _print_report(report, public_keys)
    sys.exit(ExitStatus.OK if report.ok else ExitStatus.REFUSED)


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
    if report.cosigned_by is not None:
        names = ", ".join(report.cosigned_by) or "no trusted witness"
        click.echo(f"latest checkpoint cosigned by: {names}")
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
    if files:
        try:
            return [keys.load_public_key_file(path) for path in files]
        except keys.KeyConfigError as exc:
            raise click.BadParameter(str(exc), param_hint="--public-key") from None
    private = configured_key(settings)
    return [private.public_key()] if private else []


def _signer_memories(
    settings: Settings, public_keys: list[Ed25519PublicKey]
) -> list[SignedCheckpoint]:
    """What the local signer remembers signing (outside the database), per trusted key."""
    remembered = []
    for public_key in public_keys:
        memory = SignerMemory.beside_key(settings.home_dir, key_id(public_key))
        try:
            last = memory.last()
        except SignerMemoryError as exc:
            raise CannotCheck(str(exc)) from None
        if last is not None:
            remembered.append(last)
    return remembered


def _cosigners(texts: tuple[str, ...]) -> list[Cosigner]:
    try:
        return [Cosigner.from_vkey(text) for text in texts]
    except NoteError as exc:
        raise click.BadParameter(str(exc), param_hint="--witness-key") from None


def _read_witnesses(files: tuple[Path, ...]) -> list[SignedCheckpoint]:
    witnessed = []
    for path in files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                witnessed.append(SignedCheckpoint.from_json(json.loads(line)))
            except RecursionError:
                raise click.BadParameter(
                    f"{path} line {number} is nested too deeply to be a checkpoint",
                    param_hint="--witness",
                ) from None
            except (ValueError, ValidationError) as exc:
                raise click.BadParameter(
                    f"{path} line {number} is not an audit checkpoint: {exc}",
                    param_hint="--witness",
                ) from None
    return witnessed


COMMANDS = (verify_command,)
