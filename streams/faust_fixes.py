"""One correction to faust-streaming 0.15.3 that commit-after-accept depends on.

When the offsets a consumer reads jump (transaction markers, compaction), faust records the
missing offsets as a "gap" that counts as acked. It calls `_add_gap(tp, last + 1, offset)`
with `offset` the message just fetched, and `_add_gap` includes its upper bound, so that
message counts as acked before any agent has seen it: a commit in that window, then a crash,
would lose it. The fix excludes the fetched message from the gap. Checked against the pinned
version only (pyproject pins faust-streaming and aiokafka together); remove when faust
fixes it upstream.
"""

from __future__ import annotations

from typing import Any

from faust.transport.consumer import Consumer

_PATCHED = "_closeloop_gap_fix"


def exclude_fetched_message_from_gap() -> None:
    if getattr(Consumer, _PATCHED, False):
        return
    original = Consumer._add_gap

    async def _add_gap(self: Any, tp: Any, offset_from: int, offset_to: int) -> None:
        # Called with offset_to = the offset just fetched; the gap ends one before it.
        if offset_to - 1 >= offset_from:
            await original(self, tp, offset_from, offset_to - 1)

    Consumer._add_gap = _add_gap  # type: ignore[method-assign]
    setattr(Consumer, _PATCHED, True)
