"""Child processes the launcher owns: spawn, pid files, liveness, stop; free ports.

Every part runs in its own session (so its own process group): stopping a part signals the
whole group, and Ctrl-C in the launcher's terminal reaches only the launcher, which then
stops the parts in order. A pid file records the process start time (psutil's
create_time) as well as the pid, so a pid the kernel has since handed to another program is
never mistaken for ours.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psutil

STOP_TIMEOUT = 15.0


@dataclass
class ManagedProcess:
    """One running part of the stack; `popen` is set only in the process that spawned it."""

    name: str
    pid: int
    argv: list[str]
    log_path: Path
    address: str = ""
    start_time: float | None = None
    pid_path: Path | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)
    # The environment it was started with (only in the spawning process), to restart it alike.
    env: dict[str, str] | None = field(default=None, repr=False, compare=False)

    @property
    def pgid(self) -> int:
        # start_new_session=True makes every part the leader of its own group.
        return self.pid

    def alive(self) -> bool:
        """True while this very process (not a successor with the same pid) runs."""
        if self.popen is not None:
            return self.popen.poll() is None
        return pid_alive(self.pid, self.start_time)

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        """SIGTERM the process group, SIGKILL it after `timeout`; forget the pid file."""
        stop_group(self.pid, self.start_time, timeout=timeout, popen=self.popen)
        if self.pid_path is not None:
            self.pid_path.unlink(missing_ok=True)

    def log_tail(self, lines: int = 20) -> str:
        return tail(self.log_path, lines)


def spawn(
    name: str,
    argv: Sequence[str],
    log_path: Path,
    *,
    env: Mapping[str, str] | None = None,
    address: str = "",
    pid_path: Path | None = None,
    cwd: Path | None = None,
) -> ManagedProcess:
    """Start `argv` in a new session, output appended to `log_path`, pid file optional."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        log.write(f"--- {stamp} closeloop starts {name}: {' '.join(argv)}\n".encode())
        log.flush()
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
            close_fds=True,
        )
    process = ManagedProcess(
        name=name,
        pid=popen.pid,
        argv=list(argv),
        log_path=log_path,
        address=address,
        start_time=process_start_time(popen.pid),
        pid_path=pid_path,
        popen=popen,
        env=dict(env) if env is not None else None,
    )
    if pid_path is not None:
        try:
            write_pidfile(process, pid_path)
        except BaseException:
            process.stop(timeout=0)  # an unrecorded child would outlive us unseen
            raise
    return process


# --- pid files -------------------------------------------------------------------------------


def write_pidfile(process: ManagedProcess, path: Path) -> None:
    """Write atomically, so a concurrent `status` never reads half a file."""
    data = {
        "name": process.name,
        "pid": process.pid,
        "start_time": process.start_time,
        "address": process.address,
        "argv": process.argv,
        "log_path": str(process.log_path),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    tmp.replace(path)
    process.pid_path = path


def read_pidfile(path: Path) -> ManagedProcess | None:
    """The process a pid file describes, or None when the file is missing or unreadable."""
    try:
        data = json.loads(path.read_text())
        return ManagedProcess(
            name=str(data["name"]),
            pid=int(data["pid"]),
            argv=[str(arg) for arg in data.get("argv", [])],
            log_path=Path(data.get("log_path", "")),
            address=str(data.get("address", "")),
            start_time=data.get("start_time"),
            pid_path=path,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


# --- liveness --------------------------------------------------------------------------------
# psutil, not /proc parsing: it works wherever psutil does, and its create_time is what tells
# our process from a later one the kernel gave the same pid.

_GONE = (psutil.NoSuchProcess, psutil.ZombieProcess)
_DEAD_STATES = (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)


def process_start_time(pid: int) -> float | None:
    """When the process started, in seconds since the machine booted; None if there is none.

    Since boot, not since the epoch: psutil's create_time adds the kernel's boot time, which
    it reads anew each time and which moves in whole seconds when the clock is corrected
    (NTP, a VM's clock sync). Compared as epoch times, a part started an hour ago could look
    like another program holding its pid, and `stop` would leave it running; the start in
    clock ticks since boot never changes.
    """
    try:
        process = psutil.Process(pid)
        return process.create_time() - psutil.boot_time()
    except (psutil.Error, ValueError):
        return None


# Starts recorded by earlier releases are epoch seconds (any such number is past 2001).
_EPOCH_RECORD = 1e9


def _same_start(recorded: float | None, since_boot: float) -> bool:
    if recorded is None:
        return True
    if float(recorded) > _EPOCH_RECORD:  # a pid file from before the upgrade
        return abs(float(recorded) - (since_boot + psutil.boot_time())) < 2.0
    # JSON round-trips the float exactly; the tolerance absorbs only the two reads above.
    return abs(float(recorded) - since_boot) < 0.01


def pid_alive(pid: int, start_time: float | None = None) -> bool:
    """True if `pid` runs, is not a zombie, and (when known) started at `start_time`."""
    if pid <= 0:
        return False
    try:
        process = psutil.Process(pid)
        if process.status() in _DEAD_STATES:
            return False
        return _same_start(start_time, process.create_time() - psutil.boot_time())
    except _GONE:
        return False
    except psutil.AccessDenied:
        return start_time is None  # exists, owned by someone else: it cannot be ours


def group_members(pgid: int) -> list[int]:
    """Live, non-zombie processes in process group `pgid`."""
    members = []
    for process in psutil.process_iter(["status"]):
        if process.info["status"] in _DEAD_STATES:
            continue
        try:
            if os.getpgid(process.pid) == pgid:
                members.append(process.pid)
        except (ProcessLookupError, PermissionError):
            continue
    return members


def _group_running(pid: int, start_time: float | None) -> bool:
    if pid_alive(pid, start_time):
        return True
    if pid_alive(pid):
        # The pid now belongs to another program, so the kernel cannot have reused it as a
        # process group id of ours: whatever runs in group `pid` is not ours.
        return False
    # The leader is gone; a group id stays reserved while members remain, so any are ours.
    return bool(group_members(pid))


def stop_group(
    pid: int,
    start_time: float | None,
    *,
    timeout: float = STOP_TIMEOUT,
    popen: subprocess.Popen[bytes] | None = None,
) -> bool:
    """Stop the group led by `pid`: SIGTERM, wait up to `timeout`, then SIGKILL.

    Returns True if something was running. Safe on stale pids: a pid reused by another
    program is left alone.
    """
    if not _group_running(pid, start_time):
        _reap(popen)
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(popen)
        if not _group_running(pid, start_time):
            return True
        time.sleep(0.1)
    _signal_group(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and _group_running(pid, start_time):
        _reap(popen)
        time.sleep(0.05)
    _reap(popen)
    return True


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _reap(popen: subprocess.Popen[bytes] | None) -> None:
    if popen is not None:
        popen.poll()


# --- ports -----------------------------------------------------------------------------------


def bind_host(host: str) -> str:
    """Servers listen on IPv4 loopback for `localhost`, so no client tries ::1 in vain."""
    return "127.0.0.1" if host in ("", "localhost") else host


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """True if a server could listen on host:port now (with SO_REUSEADDR, as servers bind)."""
    if not 0 < port < 65536:
        return False
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = "127.0.0.1", *, offsets: Iterable[int] = (0,)) -> int:
    """A port P, picked by the kernel, such that P + offset is free for every offset.

    `offsets` reserves neighbours: the Temporal dev server needs P, P + 1000 (UI), P + 2, P + 3.
    """
    wanted = tuple(offsets)
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if all(port_free(port + offset, host) for offset in wanted):
            return port
    raise RuntimeError(f"no free port on {host} with free neighbours at offsets {wanted}")


# --- logs ------------------------------------------------------------------------------------


def tail(path: Path, lines: int = 20) -> str:
    """The last `lines` lines of a log file, for error messages."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 64 * 1024))
            text = handle.read().decode(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
