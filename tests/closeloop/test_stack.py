"""The local stack launcher, run as people run it: the real CLI, real servers, free ports.

Each test gets its own CLOSELOOP_HOME and ports, so it can run beside a developer's stack.
Whatever a test starts, its teardown stops; then nothing that mentions the test's home or
ports may still run.
"""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from kafka import KafkaAdminClient

from base.settings import Settings
from closeloop.stack import PARTS, broker_topics, free_port, free_temporal_port, status
from closeloop.stack.processes import process_start_time
from schemas import topics
from schemas.topics import ALL_TOPICS

pytestmark = pytest.mark.e2e


@dataclass
class StackEnv:
    home: Path
    temporal_port: int
    kafka_port: int
    env: dict[str, str]

    @property
    def settings(self) -> Settings:
        return Settings(
            home=self.home,
            temporal_address=self.env["CLOSELOOP_TEMPORAL_ADDRESS"],
            kafka_bootstrap=self.env["CLOSELOOP_KAFKA_BOOTSTRAP"],
        )

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.kafka_port}"

    def cli(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "closeloop", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def recorded_pids(self) -> dict[str, int]:
        pids = {}
        for path in (self.home / "run").glob("*.pid"):
            pids[path.stem] = int(json.loads(path.read_text())["pid"])
        return pids

    def survivors(self) -> list[str]:
        """Processes that mention this stack's home or ports, or carry its CLOSELOOP_HOME."""
        marks = [str(self.home), f":{self.temporal_port}", f":{self.kafka_port}"]
        found = []
        for process in psutil.process_iter(["pid", "cmdline", "status"]):
            if process.pid == os.getpid() or process.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            cmdline = " ".join(process.info["cmdline"] or [])
            try:
                home = process.environ().get("CLOSELOOP_HOME")
            except psutil.Error:
                home = None
            if any(mark in cmdline for mark in marks) or home == str(self.home):
                found.append(f"{process.pid}: {cmdline}")
        return found


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD)
    except psutil.Error:
        return False


def _wait_gone(stack: StackEnv, timeout: float = 10) -> list[str]:
    deadline = time.monotonic() + timeout
    while (left := stack.survivors()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[StackEnv]:
    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSELOOP_")}
    temporal_port, kafka_port = free_temporal_port(), free_port()
    env.update(
        CLOSELOOP_HOME=str(home),
        CLOSELOOP_TEMPORAL_ADDRESS=f"127.0.0.1:{temporal_port}",
        CLOSELOOP_KAFKA_BOOTSTRAP=f"127.0.0.1:{kafka_port}",
        CLOSELOOP_LOG_FORMAT="json",
    )
    stack = StackEnv(home, temporal_port, kafka_port, env)
    yield stack
    if list((home / "run").glob("*.pid")) or stack.survivors():
        stack.cli("down", "--timeout", "5")
    for line in _wait_gone(stack, timeout=5):  # last resort, so one failure cannot leak
        os.kill(int(line.split(":")[0]), signal.SIGKILL)


def _line(output: str, part: str) -> str:
    return next(line for line in output.splitlines() if line.split()[:1] == [part])


def _assert_up(stack: StackEnv) -> None:
    status = stack.cli("status")
    assert status.returncode == 0, status.stdout + status.stderr
    for part in PARTS:
        assert any(
            line.split()[:1] == [part] and "healthy" in line.split()
            for line in status.stdout.splitlines()
        ), status.stdout


def test_up_detach_status_down(stack: StackEnv) -> None:
    started = stack.cli("up", "--detach")
    assert started.returncode == 0, started.stdout + started.stderr
    assert f"http://127.0.0.1:{stack.temporal_port + 1000}" in started.stdout
    assert "closeloop publish --example" in started.stdout

    _assert_up(stack)
    with urllib.request.urlopen(f"http://127.0.0.1:{stack.temporal_port + 1000}/", timeout=5):
        pass  # the Temporal UI answers HTTP
    assert {topic.name for topic in ALL_TOPICS} <= set(broker_topics(stack.bootstrap))
    assert (stack.home / "temporal.db").is_file()
    pids = stack.recorded_pids()
    assert set(pids) == set(PARTS)
    for part in PARTS:
        assert (stack.home / "logs" / f"{part}.log").is_file()

    second = stack.cli("up", "--detach")
    assert second.returncode == 1  # refused: the exit-status table
    assert "already running" in second.stderr

    stopped = stack.cli("down")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert [name for name, pid in pids.items() if _running(pid)] == []
    assert _wait_gone(stack) == []
    assert list((stack.home / "run").glob("*.pid")) == []

    after = stack.cli("status")
    assert after.returncode == 1  # a part down
    assert "down" in after.stdout

    again = stack.cli("down")
    assert again.returncode == 0
    assert "nothing was running" in again.stdout


def test_status_fails_when_a_part_is_deaf_or_dead(stack: StackEnv) -> None:
    started = stack.cli("up", "--detach")
    assert started.returncode == 0, started.stdout + started.stderr
    pids = stack.recorded_pids()

    os.killpg(pids["broker"], signal.SIGSTOP)  # alive but deaf: only a real probe notices
    try:
        deaf = stack.cli("status")
    finally:
        os.killpg(pids["broker"], signal.SIGCONT)
    assert deaf.returncode == 1
    assert "unhealthy" in _line(deaf.stdout, "broker").split()

    os.killpg(pids["worker"], signal.SIGKILL)
    deadline = time.monotonic() + 5
    while _running(pids["worker"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    dead = stack.cli("status")
    assert dead.returncode == 1
    assert "down" in _line(dead.stdout, "worker").split()
    assert "healthy" in _line(dead.stdout, "temporal").split()

    stopped = stack.cli("down")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert _wait_gone(stack) == []
    assert list((stack.home / "run").glob("*.pid")) == []


def test_foreground_up_stops_everything_on_ctrl_c(stack: StackEnv) -> None:
    launcher = subprocess.Popen(
        [sys.executable, "-m", "closeloop", "up"],
        env=stack.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert launcher.stdout is not None
        seen = []
        for line in launcher.stdout:  # the banner comes once every part is healthy
            seen.append(line)
            if line.startswith("Closeloop stack is up"):
                break
        else:
            raise AssertionError("the launcher ended before the stack was up:\n" + "".join(seen))
        assert all(part.ok for part in status(stack.settings))
        pids = stack.recorded_pids()
        assert set(pids) == {"launcher", *PARTS}

        launcher.send_signal(signal.SIGINT)
        output, _ = launcher.communicate(timeout=90)
        assert launcher.returncode == 0, output
        assert "nothing left running" in output
        assert [name for name, pid in pids.items() if _running(pid)] == []
        assert _wait_gone(stack) == []
        assert list((stack.home / "run").glob("*.pid")) == []
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()


def test_stale_pid_files_do_not_confuse_status_or_down(stack: StackEnv) -> None:
    run = stack.home / "run"
    run.mkdir(parents=True)
    me = os.getpid()
    # A pid that now belongs to another program (this test) and one that no longer exists.
    stale: dict[str, dict[str, float]] = {
        "temporal": {"pid": me, "start_time": (process_start_time(me) or 0) + 1},
        "worker": {"pid": 2**22 + 17, "start_time": 1},
    }
    for name, record in stale.items():
        (run / f"{name}.pid").write_text(json.dumps({"name": name, "argv": [], **record}))

    status = stack.cli("status")
    assert status.returncode == 1
    assert "stale" in status.stdout

    stopped = stack.cli("down")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert list(run.glob("*.pid")) == []  # and this test, the "reused" pid, still runs


def _read_until(read: Callable[[], str], marker: str, timeout: float = 150) -> str:
    """Text from `read` until `marker` appears; fails with what was seen if it never does."""
    seen = ""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        if time.monotonic() > deadline:
            raise AssertionError(f"no {marker!r} within {timeout}s:\n{seen}")
        chunk = read()
        if not chunk:
            raise AssertionError(f"output ended before {marker!r}:\n{seen}")
        seen += chunk
    return seen


def _pty_reader(master: int) -> Callable[[], str]:
    def read() -> str:
        ready, _, _ = select.select([master], [], [], 1.0)
        if not ready:
            return " "  # nothing yet: keep polling within the deadline
        try:
            return os.read(master, 65536).decode(errors="replace")
        except OSError:  # EIO: the launcher side closed
            return ""

    return read


@pytest.mark.parametrize(
    "ending",
    ["pipe closed, then Ctrl-C", "pipe closed", "terminal closed, then SIGHUP", "SIGTERM"],
)
def test_the_foreground_launcher_stops_everything_whatever_happens_to_its_output(
    stack: StackEnv, ending: str
) -> None:
    """`closeloop up | tee up.log` then Ctrl-C, a reader that goes away, a closed terminal,
    `kill`: every way ends with nothing of the stack left running (issue 8.3)."""
    command = [sys.executable, "-m", "closeloop", "up"]
    master = None
    if ending.startswith("terminal"):
        master, slave = os.openpty()
        launcher = subprocess.Popen(command, env=stack.env, stdout=slave, stderr=slave)
        os.close(slave)
        _read_until(_pty_reader(master), "Closeloop stack is up")
    else:
        launcher = subprocess.Popen(
            command, env=stack.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        assert launcher.stdout is not None
        out = launcher.stdout
        _read_until(lambda: out.readline().decode(), "Closeloop stack is up")
    try:
        pids = stack.recorded_pids()
        assert set(pids) == {"launcher", *PARTS}
        if ending == "SIGTERM":
            launcher.send_signal(signal.SIGTERM)
        elif master is not None:
            os.close(master)  # the terminal window is closed ...
            launcher.send_signal(signal.SIGHUP)  # ... and the kernel hangs up its session
        else:
            assert launcher.stdout is not None
            launcher.stdout.close()  # tee died
            if ending.endswith("Ctrl-C"):
                launcher.send_signal(signal.SIGINT)
        launcher.wait(timeout=90)
        assert [name for name, pid in pids.items() if _running(pid)] == []
        assert _wait_gone(stack) == []
        assert list((stack.home / "run").glob("*.pid")) == []
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()


def test_a_dead_local_broker_is_restarted_with_its_topics_and_status_says_what_was_lost(
    stack: StackEnv,
) -> None:
    launcher = subprocess.Popen(
        [sys.executable, "-m", "closeloop", "up"],
        env=stack.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    assert launcher.stdout is not None
    reader = threading.Thread(target=lambda: lines.extend(launcher.stdout or []), daemon=True)
    try:
        out = launcher.stdout
        _read_until(out.readline, "Closeloop stack is up")
        reader.start()
        first = stack.recorded_pids()["broker"]
        os.killpg(first, signal.SIGKILL)

        deadline = time.monotonic() + 90
        while not any("broker restarted" in line for line in lines):
            assert time.monotonic() < deadline, "".join(lines)
            assert launcher.poll() is None, "".join(lines)
            time.sleep(0.2)
        assert any("are lost" in line for line in lines), "".join(lines)
        assert stack.recorded_pids()["broker"] != first
        assert {topic.name for topic in ALL_TOPICS} <= set(broker_topics(stack.bootstrap))
        status = stack.cli("status")
        broker_line = _line(status.stdout, "broker")
        assert "restarted 1x" in broker_line, status.stdout
        assert "lost" in broker_line

        launcher.send_signal(signal.SIGINT)
        launcher.wait(timeout=90)
        assert _wait_gone(stack) == []
    finally:
        if launcher.poll() is None:
            launcher.kill()
            launcher.wait()


def test_status_notices_a_broker_that_lost_its_topics(stack: StackEnv) -> None:
    """A broker restarted behind the launcher's back comes back empty: status says so."""
    started = stack.cli("up", "--detach")
    assert started.returncode == 0, started.stdout + started.stderr
    admin = KafkaAdminClient(bootstrap_servers=stack.bootstrap)
    try:
        admin.delete_topics([topics.COMPLAINTS_DLQ])
    finally:
        admin.close()
    status = stack.cli("status")
    assert status.returncode == 1
    broker_line = _line(status.stdout, "broker")
    assert "unhealthy" in broker_line.split()
    assert f"topics missing ({topics.COMPLAINTS_DLQ})" in broker_line


def test_the_console_is_the_fifth_part_on_its_port(stack: StackEnv) -> None:
    console_port = free_port()
    stack.env["CLOSELOOP_CONSOLE_PORT"] = str(console_port)
    started = stack.cli("up", "--detach")
    assert started.returncode == 0, started.stdout + started.stderr
    assert f"Console              http://127.0.0.1:{console_port}" in started.stdout
    with urllib.request.urlopen(f"http://127.0.0.1:{console_port}/login", timeout=5) as page:
        assert page.status == 200 and b"csrf_token" in page.read()
    status = stack.cli("status")
    line = _line(status.stdout, "console")
    assert "healthy" in line.split() and f"127.0.0.1:{console_port}/login" in line
    pid = stack.recorded_pids()["console"]
    assert stack.cli("down").returncode == 0
    assert not _running(pid) and _wait_gone(stack) == []


def test_without_a_console_port_it_sits_next_to_temporal(stack: StackEnv) -> None:
    started = stack.cli("up", "--detach")
    assert started.returncode == 0, started.stdout + started.stderr
    url = f"http://127.0.0.1:{stack.temporal_port + 4}/login"
    with urllib.request.urlopen(url, timeout=5) as page:
        assert page.status == 200
    assert stack.cli("down").returncode == 0
    assert _wait_gone(stack) == []
