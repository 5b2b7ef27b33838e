"""The foreground launcher shows the parts' logs, each line prefixed with its part's name."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from closeloop.stack.processes import ManagedProcess


class LogFollower:
    """Returns the lines the parts appended to their logs since the last call."""

    def __init__(self, parts: Sequence[ManagedProcess]) -> None:
        self._parts = list(parts)
        # Start at the header `spawn` wrote, so the whole current run is shown.
        self._offsets = {part.name: _last_header_offset(part.log_path) for part in parts}
        self._partial = {part.name: "" for part in parts}
        self._width = max((len(part.name) for part in parts), default=0)

    def replace(self, old: ManagedProcess, new: ManagedProcess) -> None:
        """Follow a restarted part from its new header on."""
        self._parts[self._parts.index(old)] = new
        self._offsets[new.name] = _last_header_offset(new.log_path)
        self._partial[new.name] = ""

    def new_lines(self) -> list[str]:
        out: list[str] = []
        for part in self._parts:
            try:
                with part.log_path.open("rb") as handle:
                    handle.seek(self._offsets[part.name])
                    chunk = handle.read()
            except OSError:
                continue
            self._offsets[part.name] += len(chunk)
            text = self._partial[part.name] + chunk.decode(errors="replace")
            *complete, self._partial[part.name] = text.split("\n")
            out.extend(f"{part.name:<{self._width}} | {line}" for line in complete if line)
        return out


def _last_header_offset(path: Path) -> int:
    try:
        data = path.read_bytes()
    except OSError:
        return 0
    index = data.rfind(b"--- ")
    while index > 0 and data[index - 1 : index] != b"\n":
        index = data.rfind(b"--- ", 0, index)
    return max(index, 0)
