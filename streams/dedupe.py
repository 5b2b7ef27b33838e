"""A bounded memory of event ids whose effect Temporal already accepted.

Only a shortcut: a redelivered event that is not remembered (after a restart, or once it
fell out of the window) is still harmless, because the workflow id (intake) and the Update
id or the workflow's seen-set (follow-ups) make the effect idempotent in Temporal.
Dead-lettered events are never remembered, so a replayed dead letter is processed again.
"""

from __future__ import annotations

from collections import OrderedDict


class RecentEvents:
    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()

    def __contains__(self, key: tuple[str, str]) -> bool:
        if key in self._seen:
            self._seen.move_to_end(key)
            return True
        return False

    def remember(self, key: tuple[str, str]) -> None:
        if self._capacity <= 0:
            return
        self._seen[key] = None
        self._seen.move_to_end(key)
        while len(self._seen) > self._capacity:
            self._seen.popitem(last=False)

    def __len__(self) -> int:
        return len(self._seen)
