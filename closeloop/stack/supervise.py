"""The foreground launcher's watch: show the parts' logs, restart the broker if it dies.

The local broker (Tansu) keeps everything in memory, so when it dies its topics, the events
not yet consumed, the dead letters and the published checkpoints are gone. The launcher
restarts it on the same port, creates the topics again and says plainly what was lost; it
records each restart under CLOSELOOP_HOME so `closeloop status` reports it too. The stream
processor may exit when its broker disappears: it is restarted as well. If either keeps
dying (`MAX_RESTARTS` within `RESTART_WINDOW` seconds), or Temporal or the worker dies, the
launcher stops the whole stack and exits 1.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from closeloop.stack.follow import LogFollower
from closeloop.stack.layout import StackLayout
from closeloop.stack.processes import ManagedProcess, spawn
from closeloop.stack.readiness import StackError
from closeloop.stack.running import Stack
from closeloop.stack.services import create_topics, start_broker, wait_for_broker
from closeloop.stack.signals import StackInterrupted

Echo = Callable[[str], None]
Check = Callable[[], None]


def _nothing() -> None:
    return None


RESTARTABLE = ("broker", "stream")
MAX_RESTARTS = 3
RESTART_WINDOW = 60.0
LOST = (
    "the local broker keeps data in memory only: events published but not yet consumed, "
    "dead letters and published audit checkpoints from before the restart are lost"
)


def supervise(stack: Stack, follower: LogFollower, echo: Echo, check: Check = _nothing) -> int:
    """Show the parts' logs until interrupted (0) or until a part dies for good (1).

    `check` raises `StackInterrupted` when the launcher should stop (its output is gone)."""
    restarts: dict[str, list[float]] = {name: [] for name in RESTARTABLE}
    try:
        while True:
            check()
            for line in follower.new_lines():
                echo(line)
            dead = [part for part in stack.parts if not part.alive()]
            if dead:
                for line in follower.new_lines():
                    echo(line)
                for part in dead:
                    echo(f"{part.name} exited unexpectedly (log {part.log_path}).")
                if not all(_may_restart(part.name, restarts) for part in dead):
                    return 1
                for part in sorted(dead, key=lambda p: RESTARTABLE.index(p.name)):
                    replacement = restart(stack, part, echo)
                    stack.parts[stack.parts.index(part)] = replacement
                    follower.replace(part, replacement)
            time.sleep(0.3)
    except StackInterrupted:
        return 0
    except StackError as error:
        echo(f"could not restart: {error}")
        return 1


def _may_restart(name: str, restarts: dict[str, list[float]]) -> bool:
    if name not in restarts:
        return False
    now = time.monotonic()
    recent = [t for t in restarts[name] if now - t < RESTART_WINDOW]
    restarts[name] = [*recent, now]
    return len(recent) < MAX_RESTARTS


def restart(stack: Stack, part: ManagedProcess, echo: Echo) -> ManagedProcess:
    """Start `part` again as it was started; for the broker, recreate the topics and record it."""
    layout, settings = stack.layout, stack.settings
    part.stop(timeout=5)  # whatever is left of its process group
    if part.name == "broker":
        echo("restarting the broker ...")
        broker = start_broker(settings, part.log_path, pid_path=layout.pid_path("broker"))
        wait_for_broker(broker.address, timeout=30, process=broker)
        created = create_topics(broker.address)
        record_restart(layout, "broker")
        echo(f"broker restarted; topics created again: {', '.join(created) or 'none missing'}")
        echo(f"WARNING: {LOST}.")
        return broker
    echo(f"restarting {part.name} ...")
    return spawn(
        part.name,
        part.argv,
        part.log_path,
        env=part.env,
        pid_path=layout.pid_path(part.name),
    )


def record_restart(layout: StackLayout, name: str) -> None:
    path = layout.restarts_path(name)
    previous = read_restarts(layout, name)
    count = int(previous["count"]) if previous else 0
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    path.write_text(json.dumps({"count": count + 1, "last": stamp}) + "\n")


def read_restarts(layout: StackLayout, name: str) -> dict[str, Any] | None:
    """How often the launcher restarted `name` in this stack's life, and when last."""
    try:
        data = json.loads(layout.restarts_path(name).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and "count" in data else None
