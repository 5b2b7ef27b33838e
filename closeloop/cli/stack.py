"""`closeloop up`, `closeloop status`, `closeloop down`: the local stack."""

from __future__ import annotations

import sys

import click

from base.settings import load_settings
from closeloop.cli.errors import Refused
from closeloop.cli.exit_status import ExitStatus

STOP_TIMEOUT_HELP = "Seconds each part gets to stop after SIGTERM before SIGKILL."


@click.command()
@click.option(
    "--detach",
    "-d",
    is_flag=True,
    help="Start in the background and return once every part is healthy.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=60.0,
    show_default=True,
    help="Seconds to wait for Temporal and the broker to answer.",
)
def up(detach: bool, timeout: float) -> None:
    """Start the local stack: Temporal, Kafka API, worker, stream processor.

    Temporal listens on CLOSELOOP_TEMPORAL_ADDRESS (default localhost:7233; its UI on that
    port + 1000, HTTP API + 2, metrics + 3) and keeps workflows in a SQLite file under
    CLOSELOOP_HOME, so they survive a restart. The Kafka API (Tansu, in memory) listens on
    CLOSELOOP_KAFKA_BOOTSTRAP (default localhost:9092); all topics are created at start.

    In the foreground (the default) the parts' logs are shown and Ctrl-C stops everything.
    With --detach each part runs in its own process group; pids go to
    CLOSELOOP_HOME/run/<part>.pid, logs to CLOSELOOP_HOME/logs/<part>.log, and
    `closeloop down` stops them.

    Refuses to start when a stack already runs in the same CLOSELOOP_HOME or a port is taken.
    """
    from closeloop.stack.launcher import up as start_up
    from closeloop.stack.readiness import StackError

    settings = load_settings()
    try:
        code = start_up(settings, detach=detach, echo=click.echo, timeout=timeout)
    except StackError as error:
        raise Refused(str(error), prefix="") from None
    except KeyboardInterrupt:
        click.echo("interrupted; everything started was stopped.", err=True)
        sys.exit(ExitStatus.INTERRUPTED)
    sys.exit(code)


@click.command()
@click.option(
    "--max-lag",
    type=click.IntRange(min=0),
    default=1000,
    show_default=True,
    envvar="CLOSELOOP_STATUS_MAX_LAG",
    help="Events per input topic the stream's consumer group may have left uncommitted "
    "(summed over partitions) before status fails.",
)
@click.option(
    "--max-checkpoint-age",
    type=click.FloatRange(min=0),
    default=600.0,
    show_default=True,
    envvar="CLOSELOOP_STATUS_MAX_CHECKPOINT_AGE",
    help="Seconds the latest signed audit checkpoint may be old while newer entries wait "
    "for one, before status fails.",
)
def status(max_lag: int, max_checkpoint_age: float) -> None:
    """Show each part of the local stack, the consumer lag and the audit checkpoint's age.

    Checks now: Temporal must answer gRPC and its UI HTTP, the broker a metadata request,
    the worker and stream processor must be running. Then the stream consumer group's lag
    per input topic (events not yet committed, that is not yet accepted by Temporal) and
    the age of the latest signed audit checkpoint. Exits 1 when any part is down or
    unhealthy (also when no stack runs in CLOSELOOP_HOME), when a lag passes --max-lag, or
    when the checkpoint is older than --max-checkpoint-age while entries wait for one.
    """
    from closeloop.stack.backlog import checkpoint_age, consumer_lag
    from closeloop.stack.layout import StackLayout
    from closeloop.stack.status import status as check_status

    settings = load_settings()
    parts = check_status(settings)
    click.echo(f"stack in {StackLayout.of(settings).home}")
    click.echo(f"  {'PART':<9} {'PID':<8} {'ADDRESS':<22} {'STATE':<10} DETAIL")
    for part in parts:
        pid = str(part.pid) if part.pid is not None else "-"
        click.echo(
            f"  {part.name:<9} {pid:<8} {part.address or '-':<22} {part.state:<10} {part.detail}"
        )
    if all(part.pid is None for part in parts):
        click.echo("no stack is running here; start one with `closeloop up`")
    checks = [*consumer_lag(settings, max_lag), checkpoint_age(settings, max_checkpoint_age)]
    click.echo(f"  {'CHECK':<40} {'VALUE':<10} {'STATE':<8} DETAIL")
    for check in checks:
        state = "ok" if check.ok else "failing"
        click.echo(f"  {check.name:<40} {check.value:<10} {state:<8} {check.detail}")
    healthy = all(part.ok for part in parts) and all(check.ok for check in checks)
    sys.exit(ExitStatus.OK if healthy else ExitStatus.REFUSED)


@click.command()
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=15.0,
    show_default=True,
    help=STOP_TIMEOUT_HELP,
)
def down(timeout: float) -> None:
    """Stop the local stack started by `closeloop up` in CLOSELOOP_HOME.

    Sends SIGTERM to each part's process group (stream and worker first, then the broker
    and Temporal), waits, then SIGKILL. Removes the pid files; Temporal's SQLite file and
    the logs stay. Safe to run again, and on stale pid files.
    """
    from closeloop.stack.layout import StackLayout
    from closeloop.stack.shutdown import down as stop_down

    settings = load_settings()
    stopped = stop_down(settings, timeout=timeout, echo=click.echo)
    if stopped:
        click.echo(f"stopped: {', '.join(stopped)}")
    else:
        click.echo(f"nothing was running in {StackLayout.of(settings).home}")
