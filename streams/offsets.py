"""Which offsets of which partitions this processor may commit: only past finished events.

Offsets must be committed only after Temporal accepted the effect (invariant 2), also when
several processors share the consumer group and partitions move between them. faust's own
bookkeeping cannot be trusted for that: it forgets acks on revocation, tolerates one unacked
offset just above the last commit, counts offset "gaps" as acked, and can keep delivering
messages fetched for an older generation. The ledger therefore keeps its own account, per
partition and per *epoch* (the time between the consumer's seek to the committed offset and
the partition's revocation):

- events are acked strictly in the order they were delivered, each only once it and every
  event before it in its partition finished;
- an event of a partition this processor does not own, or fetched for an older generation,
  is not tracked: it is neither handled nor acked, and its new owner reads it again;
- on revocation, the epoch's unfinished events are abandoned: handlers already running may
  still complete (effects are idempotent), but nothing of the old epoch is acked any more;
- `safe_offset` is the highest offset a commit may name: never past an unfinished event of
  the current epoch, never past the last event this processor finished itself, and, if the
  first event after the seek was not the committed offset, never past the committed one.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import structlog

from streams.messages import AckableEvent

log = structlog.get_logger(__name__)

Partition = tuple[str, int]


@dataclass(eq=False)
class _Epoch:
    partition: Partition
    start: int | None  # the committed offset the consumer was positioned at (None: unknown)
    generation: int | None
    pending: deque[Slot] = field(default_factory=deque)
    acked_upto: int | None = None  # one past the last offset acked in this epoch
    held_at: int | None = None  # commits may not pass this offset in this epoch
    seen_first: bool = False
    current: bool = True


@dataclass(eq=False)
class Slot:
    event: AckableEvent
    epoch: _Epoch
    done: bool = False

    @property
    def offset(self) -> int:
        return self.event.message.offset


class PartitionLedger:
    """Per-partition epochs of delivered events, acked in order (see the module docstring).

    `managed=False` (one processor in tests, or outside faust) owns every partition from its
    first event on; `managed=True` owns a partition only between `begin` and `end`.
    """

    def __init__(self, *, managed: bool = False) -> None:
        self._managed = managed
        self._epochs: dict[Partition, _Epoch] = {}

    # --- ownership ---------------------------------------------------------------------

    def begin(self, partition: Partition, start: int | None, generation: int | None) -> None:
        """The consumer was positioned at `start` (the committed offset): a new epoch."""
        self._end(partition)
        self._epochs[partition] = _Epoch(partition, start, generation)

    def end(self, partitions: Iterable[Partition]) -> int:
        """The partitions were revoked: abandon their unfinished events. Returns how many."""
        return sum(self._end(partition) for partition in partitions)

    def owned(self) -> set[Partition]:
        return set(self._epochs)

    def _end(self, partition: Partition) -> int:
        epoch = self._epochs.pop(partition, None)
        if epoch is None:
            return 0
        epoch.current = False
        abandoned = len(epoch.pending)
        if abandoned:
            log.info(
                "partition revoked: unfinished events abandoned, the new owner reads them again",
                topic=partition[0],
                partition=partition[1],
                abandoned=abandoned,
                first_offset=min(slot.offset for slot in epoch.pending),
            )
        return abandoned

    # --- events ------------------------------------------------------------------------

    def track(self, event: AckableEvent) -> Slot | None:
        """Start accounting for a delivered event; None if this processor must not handle it."""
        message = event.message
        partition = (message.topic, message.partition)
        epoch = self._epochs.get(partition)
        if epoch is None:
            if self._managed:
                return None
            epoch = self._epochs[partition] = _Epoch(partition, None, None)
        generation = getattr(message, "generation_id", None)
        if (
            generation is not None
            and epoch.generation is not None
            and generation < epoch.generation
        ):
            return None  # fetched for an older generation: the partition may be elsewhere
        if not epoch.seen_first:
            epoch.seen_first = True
            if epoch.start is not None and message.offset > epoch.start:
                # Something between the committed offset and this event was never delivered
                # here (faust dropped or skipped it): it must not be committed past.
                epoch.held_at = epoch.start
                log.warning(
                    "first event after the seek is past the committed offset; commits of "
                    "this partition stay at the committed offset until it is reassigned",
                    topic=partition[0],
                    partition=partition[1],
                    committed=epoch.start,
                    first_offset=message.offset,
                )
        slot = Slot(event, epoch)
        epoch.pending.append(slot)
        return slot

    @staticmethod
    def is_current(slot: Slot) -> bool:
        """False once the slot's partition was revoked (or re-seeked): do not handle it."""
        return slot.epoch.current

    def finish(self, slot: Slot) -> int:
        """Mark `slot` done; ack it and any done successors at the head. Returns acks made."""
        slot.done = True
        epoch = slot.epoch
        if not epoch.current:
            return 0
        acked = 0
        while epoch.pending and epoch.pending[0].done:
            head = epoch.pending.popleft()
            head.event.ack()
            following = head.offset + 1
            epoch.acked_upto = max(epoch.acked_upto or following, following)
            acked += 1
        return acked

    def waiting(self) -> int:
        return sum(len(epoch.pending) for epoch in self._epochs.values())

    # --- commits -----------------------------------------------------------------------

    def safe_offset(self, partition: Partition) -> int | None:
        """The highest offset a commit of `partition` may name now; None: commit nothing."""
        epoch = self._epochs.get(partition)
        if epoch is None or epoch.acked_upto is None:
            return None
        limits = [epoch.acked_upto]
        if epoch.pending:
            limits.append(min(slot.offset for slot in epoch.pending))
        if epoch.held_at is not None:
            limits.append(epoch.held_at)
        return min(limits)

    def clamp(self, offsets: Mapping[Partition, int]) -> dict[Partition, int]:
        """The part of a proposed commit that passes no unfinished event; drops the rest."""
        allowed: dict[Partition, int] = {}
        for partition, offset in offsets.items():
            safe = self.safe_offset(partition)
            if safe is None:
                continue
            epoch = self._epochs[partition]
            clamped = min(offset, safe)
            if epoch.start is not None and clamped <= epoch.start:
                continue  # nothing new, and never a commit behind the committed offset
            allowed[partition] = clamped
        return allowed
