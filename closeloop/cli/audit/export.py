"""`closeloop audit export`: a verifiable bundle for auditors, with its own verifier."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from audit import keys
from audit.export import BundleExists, export_bundle
from audit.signing import key_id
from base.settings import Settings, load_settings
from closeloop.cli.audit.common import (
    CannotCheck,
    configured_key,
    filter_options,
    make_filter,
    open_log,
)


@click.command("export")
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
    runs on their own machine: `cd DIR && python verify.py --public-key KEY.pem` (the
    key from `closeloop audit public-key`, handed over apart from the bundle). It exits 0
    only when the bundle is intact. Filters select entries; the bundle always proves them
    against the whole signed log, and states its filter.
    """
    _check_out(out)
    settings = load_settings()
    public_key = _public_key(settings, [public_key_file] if public_key_file else [])
    if public_key is None:
        raise CannotCheck(
            "no public key to ship: pass --public-key FILE (from `closeloop audit public-key`)"
        )
    where = make_filter(**filters)
    log = open_log(settings)
    try:
        result = export_bundle(
            log, out, public_key, where, progress=lambda message: click.echo(message, err=True)
        )
    except BundleExists as exc:
        raise click.BadParameter(str(exc), param_hint="--out") from None
    except OSError as exc:
        raise click.BadParameter(
            f"cannot write the bundle into {out}: {exc.strerror or exc}", param_hint="--out"
        ) from None
    latest = result.latest.label if result.latest else "no checkpoint yet"
    click.echo(
        f"exported {result.entries} of {result.log_size} entries to {result.out} "
        f"(checkpoints: {result.checkpoints}, latest: {latest}; "
        f"inclusion proofs: {result.inclusion_proofs}; key {key_id(public_key)})"
    )
    click.echo(
        f"verify it with: cd {result.out} && python verify.py --public-key KEY.pem "
        "(hand the key over apart from the bundle: `closeloop audit public-key`)"
    )


def _public_key(settings: Settings, files: list[Path]) -> Any:
    """The first of --public-key FILE, or the configured signing key's public half."""
    if files:
        try:
            return keys.load_public_key_file(files[0])
        except keys.KeyConfigError as exc:
            raise click.BadParameter(str(exc), param_hint="--public-key") from None
    private = configured_key(settings)
    return private.public_key() if private else None


def _check_out(out: Path) -> None:
    """Refuse an --out that can never hold a bundle before any work is done."""
    if out.exists() and not out.is_dir():
        raise click.BadParameter(
            f"{out} exists and is not a folder; give a new (or empty) folder", param_hint="--out"
        )
    parent = next((p for p in out.absolute().parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise click.BadParameter(f"{parent} is not a folder", param_hint="--out")


COMMANDS = (export_command,)
