"""`closeloop up`: start the local stack as one unit.

Temporal and Tansu start first; once both answer, the search attributes are registered and
the topics created, then the worker and the stream processor start, then the console
(`stack.console_part`). Every part gets a pid
file and a log under CLOSELOOP_HOME, in the foreground too, so `status` and `down` work from
any terminal. A failed or interrupted start stops whatever it had started.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from base.settings import Settings
from closeloop.mailer.settings import MailerSettings
from closeloop.stack.console_part import console_listen, start_console, wait_for_console
from closeloop.stack.follow import LogFollower
from closeloop.stack.layout import LAUNCHER, PARTS, StackLayout
from closeloop.stack.output import LauncherOutput
from closeloop.stack.processes import (
    ManagedProcess,
    port_free,
    process_start_time,
    read_pidfile,
    spawn,
    write_pidfile,
)
from closeloop.stack.readiness import StackError
from closeloop.stack.running import Stack
from closeloop.stack.services import (
    broker_listen,
    create_topics,
    register_search_attributes,
    start_broker,
    start_temporal,
    temporal_ports,
    wait_for_broker,
    wait_for_temporal,
)
from closeloop.stack.shutdown import stop_parts
from closeloop.stack.signals import StackInterrupted, ignoring_signals, stop_signals
from closeloop.stack.supervise import supervise

Echo = Callable[[str], None]

# The worker and stream processor must survive this long to count as started: import
# errors, bad settings and refused connections all show within it.
SETTLE_SECONDS = 3.0


def child_env(settings: Settings) -> dict[str, str]:
    """The launcher's environment, with the settings every part must agree on spelled out."""
    env = dict(os.environ)
    env.update(
        CLOSELOOP_HOME=str(settings.home_dir),
        CLOSELOOP_TEMPORAL_ADDRESS=settings.temporal_address,
        CLOSELOOP_TEMPORAL_NAMESPACE=settings.temporal_namespace,
        CLOSELOOP_TASK_QUEUE=settings.task_queue,
        CLOSELOOP_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
        PYTHONUNBUFFERED="1",
    )
    return env


def closeloop_command(subcommand: str) -> list[str]:
    return [sys.executable, "-m", "closeloop", subcommand]


def check_not_running(layout: StackLayout) -> None:
    """Refuse a second stack in one home; forget pid files of processes that are gone."""
    running = []
    for name in (LAUNCHER, *PARTS):
        part = read_pidfile(layout.pid_path(name))
        if part is not None and part.pid == os.getpid():
            continue  # this launcher's own record
        if part is None:
            layout.pid_path(name).unlink(missing_ok=True)
        elif part.alive():
            running.append(f"{name} (pid {part.pid})")
        elif name != LAUNCHER:
            part.stop()  # the leader is gone: end what is left of its group, drop the file
        else:
            layout.pid_path(name).unlink(missing_ok=True)
    if running:
        raise StackError(
            f"a stack is already running in {layout.home}: {', '.join(running)}. "
            "See `closeloop status`; stop it with `closeloop down`."
        )


def check_ports(settings: Settings) -> None:
    """Refuse to start when any port the stack listens on is taken, naming each one."""
    ports = temporal_ports(settings)
    wanted = [(name, ports.host, port) for name, port in ports.named().items()]
    wanted.append(("Kafka API", *broker_listen(settings)))
    wanted.append(("console", *console_listen(settings)))
    taken = [f"{name} {host}:{port}" for name, host, port in wanted if not port_free(port, host)]
    if taken:
        raise StackError(
            f"port already in use: {', '.join(taken)}. Stop what listens there, or choose "
            "other ports with CLOSELOOP_TEMPORAL_ADDRESS (the other Temporal ports follow it) "
            "CLOSELOOP_KAFKA_BOOTSTRAP and CLOSELOOP_CONSOLE_PORT."
        )


def start_stack(settings: Settings, *, echo: Echo = print, timeout: float = 60.0) -> Stack:
    """Start every part and wait until each is healthy; on any failure stop what started.

    The caller owns the result: `Stack.stop()` stops it. A detached launcher just returns
    and leaves the pid files to `closeloop down`.
    """
    layout = StackLayout.of(settings)
    check_not_running(layout)
    check_ports(settings)
    for name in PARTS:  # a new stack: earlier restarts are history
        layout.restarts_path(name).unlink(missing_ok=True)
    parts: list[ManagedProcess] = []
    try:
        echo(f"starting Temporal dev server on {settings.temporal_address} ...")
        temporal = start_temporal(
            settings, layout.log_path("temporal"), pid_path=layout.pid_path("temporal")
        )
        parts.append(temporal)
        echo(f"starting Kafka API broker (Tansu) on {settings.kafka_bootstrap} ...")
        broker = start_broker(
            settings, layout.log_path("broker"), pid_path=layout.pid_path("broker")
        )
        parts.append(broker)

        wait_for_temporal(
            temporal.address,
            namespace=settings.temporal_namespace,
            ui_url=settings.temporal_ui_url,
            timeout=timeout,
            process=temporal,
        )
        added = register_search_attributes(settings)
        echo(f"Temporal ready; search attributes added: {', '.join(added) or 'none missing'}")
        wait_for_broker(broker.address, timeout=timeout, process=broker)
        created = create_topics(broker.address)
        echo(f"broker ready; topics created: {', '.join(created) or 'none missing'}")

        env = child_env(settings)
        # The SMTP sender only when configured (CLOSELOOP_SMTP_HOST): a CRM may deliver instead.
        names = ("worker", "stream", *(("mailer",) if MailerSettings().enabled else ()))
        for name in names:
            echo(f"starting {name} ...")
            command = closeloop_command(name)
            log, pid = layout.log_path(name), layout.pid_path(name)
            parts.append(spawn(name, command, log, env=env, pid_path=pid))
        settle(parts[-len(names) :])
        # After the worker: both create missing tables at start, one at a time on SQLite.
        echo("starting console ...")
        console = start_console(
            settings, layout.log_path("console"), env=env, pid_path=layout.pid_path("console")
        )
        parts.append(console)
        wait_for_console(console, timeout)
    except BaseException:
        with ignoring_signals():
            stop_parts(parts)
        raise
    return Stack(settings, layout, parts)


def settle(parts: Sequence[ManagedProcess], seconds: float = SETTLE_SECONDS) -> None:
    """Fail if any of `parts` exits within `seconds` of starting."""
    deadline = time.monotonic() + seconds
    while True:
        for part in parts:
            if not part.alive():
                code = part.popen.returncode if part.popen is not None else None
                raise StackError(
                    f"{part.name} exited right after start with code {code} "
                    f"(log {part.log_path}):\n{part.log_tail()}"
                )
        if time.monotonic() >= deadline:
            return
        time.sleep(0.2)


@contextmanager
def launcher_record(layout: StackLayout) -> Iterator[None]:
    """A pid file for the launcher itself, so `closeloop down` can ask it to stop."""
    me = ManagedProcess(
        name=LAUNCHER,
        pid=os.getpid(),
        argv=list(sys.argv),
        log_path=Path(os.devnull),
        start_time=process_start_time(os.getpid()),
    )
    write_pidfile(me, layout.pid_path(LAUNCHER))
    try:
        yield
    finally:
        layout.pid_path(LAUNCHER).unlink(missing_ok=True)


def up(settings: Settings, *, detach: bool, echo: Echo = print, timeout: float = 60.0) -> int:
    """Start the stack; detached, return once healthy; else supervise until told to stop.

    Returns the exit code: 0 after a requested stop, 1 if a part died on its own.
    Raises StackError when the stack cannot start (nothing is left running then).
    """
    layout = StackLayout.of(settings)
    with layout.lock() as locked:
        if not locked:
            raise StackError(
                f"another `closeloop up` is starting or running in {layout.home}; "
                "see `closeloop status`"
            )
        with stop_signals(), launcher_record(layout):
            out = LauncherOutput(echo)
            stack = start_stack(settings, echo=out, timeout=timeout)
            if detach:
                out.quiet(banner(stack, detach=detach))
                return 0
            # From here on the stack is ours to stop, whatever happens: a signal, a broken
            # pipe or a closed terminal (issue 8.3). Stopping comes first; words after.
            follower: LogFollower | None = None
            try:
                out(banner(stack, detach=detach))
                follower = LogFollower(stack.parts)
                return supervise(stack, follower, out, out.check)
            except StackInterrupted:
                return 0
            finally:
                with ignoring_signals():
                    out.quiet("stopping the stack ...")
                    stack.stop()
                    for line in follower.new_lines() if follower else []:
                        out.quiet(line)
                    out.quiet("stopped; nothing left running.")


def banner(stack: Stack, *, detach: bool) -> str:
    settings = stack.settings
    rows = [f"  {p.name:<9} pid {p.pid:<8} {p.address or '-'}" for p in stack.parts]
    stop = "closeloop down" if detach else "Ctrl-C (or `closeloop down` in another terminal)"
    return "\n".join(
        [
            "",
            f"Closeloop stack is up (state, logs and pids in {stack.layout.home}):",
            *rows,
            "",
            f"  Temporal UI          {settings.temporal_ui_url}",
            f"  Console              http://{'{}:{}'.format(*console_listen(settings))}",
            "  Sign in (CLI)        closeloop users add NAME ...; closeloop login NAME",
            "  Publish a complaint  closeloop publish --example",
            "  Its audit trail      closeloop audit log --complaint ID",
            "  Status               closeloop status",
            f"  Logs                 {stack.layout.log_dir}/<part>.log",
            f"  Stop                 {stop}",
            "",
        ]
    )
