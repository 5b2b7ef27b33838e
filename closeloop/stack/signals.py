"""Signals in the launcher: every way of saying "stop" means the same, and stopping finishes."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

WATCHED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class StackInterrupted(KeyboardInterrupt):
    """Ctrl-C, SIGTERM (e.g. from `closeloop down`) or SIGHUP reached the launcher."""


@contextmanager
def stop_signals() -> Iterator[None]:
    """Raise StackInterrupted on SIGINT, SIGTERM and SIGHUP, for the launcher's life."""

    def interrupt(signum: int, _frame: FrameType | None) -> None:
        raise StackInterrupted(signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, interrupt) for sig in WATCHED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextmanager
def ignoring_signals() -> Iterator[None]:
    """While stopping, finish the job: an impatient second Ctrl-C must not leave orphans.

    Only the main thread may set handlers; elsewhere (a fixture in a thread) this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in WATCHED}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
