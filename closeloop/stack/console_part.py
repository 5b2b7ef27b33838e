"""The console as the stack's fifth part: where it listens, how it starts, when it serves.

`closeloop up` runs `closeloop console` on CLOSELOOP_CONSOLE_HOST (default 127.0.0.1) and
CLOSELOOP_CONSOLE_PORT; unset, the port sits next to Temporal's (gRPC port +
`CONSOLE_OFFSET`, 7237 for the default 7233), so a stack started on free Temporal ports gets
a free console port too. It counts as ready when /login answers.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

from base.settings import Settings
from closeloop.stack.processes import ManagedProcess, bind_host, spawn
from closeloop.stack.readiness import StackError, http_answers, wait_until
from closeloop.stack.services import CONSOLE_OFFSET

PORT_VARIABLE = "CLOSELOOP_CONSOLE_PORT"
HOST_VARIABLE = "CLOSELOOP_CONSOLE_HOST"


def console_listen(settings: Settings) -> tuple[str, int]:
    host = bind_host(os.environ.get(HOST_VARIABLE, "127.0.0.1"))
    raw = os.environ.get(PORT_VARIABLE, "").strip()
    if not raw:
        return host, settings.temporal_host_port[1] + CONSOLE_OFFSET
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise StackError(f"{PORT_VARIABLE}: {raw!r} is not a port number (1-65535)")
    return host, int(raw)


def login_url(address: str) -> str:
    return f"http://{address}/login"


def start_console(
    settings: Settings, log_path: Path, *, env: Mapping[str, str], pid_path: Path
) -> ManagedProcess:
    """Start `closeloop console`; does not wait (see `wait_for_console`)."""
    host, port = console_listen(settings)
    command = [sys.executable, "-m", "closeloop", "console", "--host", host, "--port", str(port)]
    return spawn("console", command, log_path, env=env, address=f"{host}:{port}", pid_path=pid_path)


def wait_for_console(part: ManagedProcess, timeout: float) -> None:
    wait_until(
        "console", part.address, lambda: http_answers(login_url(part.address)), timeout, part
    )
