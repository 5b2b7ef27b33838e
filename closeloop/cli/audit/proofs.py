"""`closeloop audit proof|consistency`: RFC 9162 proofs anyone can check with the public key."""

from __future__ import annotations

import json

import click

from audit.checkpoints import SignedCheckpoint
from audit.proofs import ProofUnavailable, consistency_proof, inclusion_proof
from audit.signing import CheckpointSignatureError, verify_checkpoint_signature
from base.settings import Settings, load_settings
from closeloop.cli.audit.common import configured_key, open_log
from closeloop.cli.errors import CannotCheck


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
        raise CannotCheck(str(exc)) from None
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
        raise CannotCheck(str(exc)) from None
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
        private = configured_key(settings)
    except CannotCheck:
        private = None
    if private is None:
        return "not checked here: no key configured"
    try:
        verify_checkpoint_signature(private.public_key(), cp.checkpoint, cp.signature)
    except CheckpointSignatureError:
        return "INVALID for the configured key"
    return "valid"


COMMANDS = (proof_command, consistency_command)
