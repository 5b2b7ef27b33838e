"""`closeloop down`: stop what `closeloop up` started in this CLOSELOOP_HOME, in order."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

from base.settings import Settings
from closeloop.stack.layout import LAUNCHER, OPTIONAL_PARTS, PARTS, StackLayout
from closeloop.stack.processes import STOP_TIMEOUT, ManagedProcess, pid_alive, read_pidfile

SERVERS = frozenset({"temporal", "broker"})


def stop_parts(parts: Sequence[ManagedProcess], timeout: float = STOP_TIMEOUT) -> None:
    """Stop the clients (stream, worker) first, then the servers; each phase in parallel."""
    clients = [p for p in parts if p.name not in SERVERS]
    servers = [p for p in parts if p.name in SERVERS]
    for phase in (clients, servers):
        if phase:
            with ThreadPoolExecutor(max_workers=len(phase)) as pool:
                list(pool.map(lambda p: p.stop(timeout), phase))


def down(
    settings: Settings,
    *,
    timeout: float = STOP_TIMEOUT,
    echo: Callable[[str], None] = print,
) -> list[str]:
    """Stop everything recorded under CLOSELOOP_HOME; returns the parts that were running.

    Idempotent. Stale pid files are removed; a pid now used by another program is left alone.
    """
    layout = StackLayout.of(settings)
    running = [
        part
        for name in reversed((*PARTS, *OPTIONAL_PARTS))
        if (part := read_pidfile(layout.pid_path(name))) is not None and part.alive()
    ]
    launcher = read_pidfile(layout.pid_path(LAUNCHER))
    if launcher is not None and launcher.alive():
        # A foreground launcher stops its parts in order itself; give it the time to.
        echo(f"asking the foreground launcher (pid {launcher.pid}) to stop the stack ...")
        os.kill(launcher.pid, signal.SIGTERM)
        deadline = time.monotonic() + 2 * timeout + 10
        while time.monotonic() < deadline and pid_alive(launcher.pid, launcher.start_time):
            time.sleep(0.1)
    layout.pid_path(LAUNCHER).unlink(missing_ok=True)

    # Whatever is still recorded: parts of a detached stack, or of a launcher that was killed.
    leftovers = []
    for name in reversed((*PARTS, *OPTIONAL_PARTS)):
        part = read_pidfile(layout.pid_path(name))
        if part is None:
            layout.pid_path(name).unlink(missing_ok=True)
            continue
        if part.alive():
            echo(f"stopping {part.name} (pid {part.pid}) ...")
        leftovers.append(part)  # stop() on a dead leader clears its group and the pid file
    stop_parts(leftovers, timeout)
    for name in PARTS:
        layout.restarts_path(name).unlink(missing_ok=True)
    return [part.name for part in running]
