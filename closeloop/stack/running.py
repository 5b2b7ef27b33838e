"""A started stack: its settings, its folders and the processes it runs.

Its own module because the launcher that builds it and the supervisor that watches it both
need it, and neither should import the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from base.settings import Settings
from closeloop.stack.layout import StackLayout
from closeloop.stack.processes import STOP_TIMEOUT, ManagedProcess
from closeloop.stack.shutdown import stop_parts


@dataclass
class Stack:
    settings: Settings
    layout: StackLayout
    parts: list[ManagedProcess]

    def stop(self, timeout: float = STOP_TIMEOUT) -> None:
        stop_parts(self.parts, timeout)
