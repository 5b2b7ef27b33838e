"""Where the stack keeps its pid files, logs and lock under CLOSELOOP_HOME."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from base.settings import Settings

# Start order; stop runs in reverse, so the stream stops consuming before the broker goes
# (and the console, which takes decisions, stops first).
PARTS = ("temporal", "broker", "worker", "stream", "console")
# Started only when configured (the SMTP sender: CLOSELOOP_SMTP_HOST); stopped like the others.
OPTIONAL_PARTS = ("mailer",)
LAUNCHER = "launcher"


@dataclass(frozen=True)
class StackLayout:
    home: Path

    @classmethod
    def of(cls, settings: Settings) -> StackLayout:
        # Not settings.home_dir, which creates the folder: `status` and `down` must not.
        return cls(settings.home.expanduser().resolve())

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"

    def pid_path(self, name: str) -> Path:
        return self.run_dir / f"{name}.pid"

    def restarts_path(self, name: str) -> Path:
        """Restarts of a part by the supervising launcher (see `stack.supervise`)."""
        return self.run_dir / f"{name}.restarts"

    def log_path(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    @contextmanager
    def lock(self) -> Iterator[bool]:
        """Hold the home's launcher lock; yields False if another launcher holds it."""
        self.run_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.run_dir / "launcher.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # closing releases the lock
