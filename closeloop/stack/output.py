"""The foreground launcher's output, which may vanish under it.

`closeloop up 2>&1 | tee up.log` then Ctrl-C: tee dies first, and the launcher's next line
meets a broken pipe; a closed terminal gives EIO. Either used to end the launcher with a
traceback in the middle of stopping, leaving every part running with parent 1 (issue 8.3).
Now the first failed write marks the output gone, points file descriptors 1 and 2 at
/dev/null (so nothing later, not even the interpreter's final flush, can fail again) and
raises `OutputClosed`, which the launcher treats like Ctrl-C: nobody is watching any more,
so it stops what it started. Every later line is dropped.
"""

from __future__ import annotations

import contextlib
import os
import select
from collections.abc import Callable

from closeloop.stack.signals import StackInterrupted


class OutputClosed(StackInterrupted):
    """The launcher's standard output or error went away (broken pipe, closed terminal)."""


class LauncherOutput:
    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self.closed = False

    def __call__(self, line: str) -> None:
        """Write a line; on the first failure, `OutputClosed`."""
        if self.closed:
            return
        try:
            self._write(line)
        except OSError:
            self._close()
            raise OutputClosed("output closed") from None

    def check(self) -> None:
        """`OutputClosed` if the pipe's reader or the terminal went away, even though
        nothing was written: a quiet stack must not outlive its operator either."""
        if self.closed:
            return
        poller = select.poll()
        for fd in (1, 2):
            with contextlib.suppress(OSError, ValueError):
                poller.register(fd, select.POLLERR | select.POLLHUP)
        if any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0)):
            self._close()
            raise OutputClosed("output closed")

    def quiet(self, line: str) -> None:
        """Write a line if anyone can still read it; never raise (for use while stopping)."""
        with contextlib.suppress(OutputClosed):
            self(line)

    def _close(self) -> None:
        self.closed = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        for fd in (1, 2):
            with contextlib.suppress(OSError):
                os.dup2(devnull, fd)
        os.close(devnull)
