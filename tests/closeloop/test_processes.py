"""Telling our processes from others by pid and start, whatever the clock does."""

from __future__ import annotations

import sys
from pathlib import Path

import psutil
import pytest

from closeloop.stack.processes import pid_alive, spawn


def test_a_clock_correction_does_not_make_a_running_part_look_like_a_stranger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """psutil adds the kernel's boot time to a process's start; the kernel moves that boot
    time in whole seconds when the clock is corrected. A part started before such a step
    must still be ours, so that `stop` (and `closeloop down`) really stops it."""
    part = spawn("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"],
                 tmp_path / "sleeper.log")  # fmt: skip
    try:
        booted = psutil.boot_time()
        monkeypatch.setattr("psutil._psplatform.boot_time", lambda: booted + 1.0)
        assert pid_alive(part.pid, part.start_time)
        part.stop(timeout=5)
        assert part.popen is not None and part.popen.poll() is not None
        assert not part.alive()
    finally:
        if part.popen is not None and part.popen.poll() is None:
            part.popen.kill()


def test_a_pid_now_held_by_another_program_is_not_ours(tmp_path: Path) -> None:
    part = spawn("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"],
                 tmp_path / "sleeper.log")  # fmt: skip
    try:
        assert part.start_time is not None
        assert not pid_alive(part.pid, part.start_time + 5.0)  # started at another time
    finally:
        part.stop(timeout=5)


def test_a_pid_file_from_an_earlier_release_with_an_epoch_start_is_still_recognised(
    tmp_path: Path,
) -> None:
    part = spawn("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"],
                 tmp_path / "sleeper.log")  # fmt: skip
    try:
        epoch_start = psutil.Process(part.pid).create_time()
        assert pid_alive(part.pid, epoch_start)
        assert not pid_alive(part.pid, epoch_start - 3600)
    finally:
        part.stop(timeout=5)
