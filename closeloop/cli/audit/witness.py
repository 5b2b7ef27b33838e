"""`closeloop audit witness`: run a C2SP tlog-witness that cosigns this (or another) log.

A witness is best run by someone other than the log's operator (the quality department's
auditors, a customer, a notified body): it refuses to cosign any checkpoint that is not
consistent with one it cosigned before, so not even the holder of the log's signing key
can rewrite history unnoticed once a witness has seen it.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from audit import note, tlog_checkpoint
from audit.signing import key_id, load_or_create_signing_key
from audit.witness import Witness
from base.settings import Settings, load_settings, split_host_port
from closeloop.cli.audit.common import configured_key
from closeloop.cli.errors import CannotCheck
from closeloop.logging import configure_logging
from closeloop.witness_server import make_server, serve_in_thread

DEFAULT_PORT = 7380


@click.command("witness")
@click.option(
    "--listen",
    default=f"127.0.0.1:{DEFAULT_PORT}",
    show_default=True,
    metavar="HOST:PORT",
    help="Where to answer POST /add-checkpoint.",
)
@click.option(
    "--log-key",
    "log_keys",
    multiple=True,
    metavar="VKEY",
    help="A log this witness cosigns, as its verifier key (`closeloop audit public-key "
    "--vkey` on the log's side); repeat for several logs. Default: this installation's log.",
)
@click.option(
    "--state-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the witness keeps its key and the latest checkpoint of each log "
    "(default: $CLOSELOOP_HOME/witness).",
)
@click.option("--name", help="The witness's name in its cosignatures (default from its key).")
@click.option(
    "--print-key", is_flag=True, help="Print the witness's verifier key (for auditors) and exit."
)
def witness_command(
    listen: str,
    log_keys: tuple[str, ...],
    state_dir: Path | None,
    name: str | None,
    print_key: bool,
) -> None:
    """Run a witness: cosign each checkpoint that extends the last one it cosigned.

    Speaks the C2SP tlog-witness protocol: the log POSTs `old <size>`, a consistency proof
    and the new checkpoint note; the witness answers 200 with its cosignature, 404 for a
    log it does not know, 403 for a bad or missing log signature, 409 with its size when
    the log is behind or ahead of what it last cosigned, 422 when the proof fails. Refused
    checkpoints that are correctly signed are kept in refusals.jsonl as evidence. Its key
    and state survive restarts. Point the log at it with CLOSELOOP_AUDIT_WITNESSES.
    """
    settings = load_settings()
    configure_logging(settings)
    folder = state_dir or settings.home_dir / "witness"
    key = load_or_create_signing_key(folder / "witness-key.pem")
    witness_name = name or f"witness.closeloop/{key_id(key)}"
    logs = [_log_key(text) for text in log_keys] or [_local_log(settings)]
    witness = Witness(witness_name, key, logs, folder)
    if print_key:
        click.echo(witness.vkey)
        return
    try:
        host, port = split_host_port(listen, DEFAULT_PORT)
        server = make_server(witness, host, port)
    except (ValueError, OSError) as exc:
        raise click.BadParameter(
            f"cannot listen on {listen}: {exc}", param_hint="--listen"
        ) from None
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    serve_in_thread(server)
    click.echo(
        f"witness {witness_name} listening on http://{host}:{server.server_port}/add-checkpoint\n"
        f"  cosigns: {', '.join(v.name for v in logs)}\n"
        f"  its key (give it to auditors): {witness.vkey}",
        err=True,
    )
    stop.wait()
    server.shutdown()
    server.server_close()


def _log_key(text: str) -> note.Verifier:
    try:
        return note.Verifier.from_vkey(text)
    except note.NoteError as exc:
        raise click.BadParameter(str(exc), param_hint="--log-key") from None


def _local_log(settings: Settings) -> note.Verifier:
    private = configured_key(settings)
    if private is None:
        raise CannotCheck(
            "no log to witness: give --log-key (the log's `closeloop audit public-key "
            "--vkey`), or make this installation's first checkpoint"
        )
    origin = settings.audit_origin or tlog_checkpoint.default_origin(private)
    return note.Verifier(origin, private.public_key())


COMMANDS = (witness_command,)
