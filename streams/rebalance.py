"""Wiring the PartitionLedger into faust, so rebalances between processors lose nothing.

Three hooks, each checked against the pinned faust-streaming 0.15.3 (pinned with aiokafka):

- the seek to the committed offsets that faust performs after every assignment (and when it
  resumes a stopped flow) starts a new epoch per partition at that offset;
- the `on_partitions_revoked` signal ends the epochs of the revoked partitions: their
  unfinished events are abandoned, never acked (their new owner reads them again);
- every commit faust makes (periodic, every N acks, on shutdown) goes through the ledger's
  `clamp`, whatever faust computed itself, so no commit ever passes an unfinished event.

The consumer is a class shared by every app in the process; each app's ledger is found
through the app, so the patch is installed once and is a no-op for apps without a ledger.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from weakref import WeakKeyDictionary

import faust
from faust.transport.consumer import Consumer, ThreadDelegateConsumer
from faust.types import TP

from streams.offsets import Partition, PartitionLedger

_LEDGERS: WeakKeyDictionary[Any, PartitionLedger] = WeakKeyDictionary()
_PATCHED = "_closeloop_rebalance_hooks"


def _partition(tp: Any) -> Partition:
    return (tp.topic, tp.partition)


def attach_ledger(app: faust.App) -> PartitionLedger:
    """A ledger that owns exactly what this app's consumer was positioned on."""
    _install_consumer_hooks()
    ledger = PartitionLedger(managed=True)
    _LEDGERS[app] = ledger

    @app.on_partitions_revoked.connect
    async def on_revoked(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        revoked: set[TP] = args[0]
        ledger.end(_partition(tp) for tp in revoked)

    @app.on_partitions_assigned.connect
    async def on_assigned(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        assigned: set[TP] = args[0]
        # Anything not in the new assignment is gone even if no revocation was signalled.
        kept = {_partition(tp) for tp in assigned}
        ledger.end(partition for partition in ledger.owned() if partition not in kept)

    return ledger


def _install_consumer_hooks() -> None:
    if getattr(Consumer, _PATCHED, False):
        return
    original_seek = ThreadDelegateConsumer.seek_to_committed
    original_commit = Consumer._commit_offsets

    async def seek_to_committed(self: Any) -> Mapping[TP, int]:
        committed = await original_seek(self)
        ledger = _LEDGERS.get(self.app)
        if ledger is not None:
            generation = self.app.consumer_generation_id
            for tp, offset in committed.items():
                start = offset if offset is not None and offset >= 0 else None
                ledger.begin(_partition(tp), start, generation)
        return committed

    async def _commit_offsets(
        self: Any, offsets: Mapping[TP, int], start_new_transaction: bool = True
    ) -> bool:
        ledger = _LEDGERS.get(self.app)
        if ledger is not None:
            by_partition = ledger.clamp({_partition(tp): offset for tp, offset in offsets.items()})
            offsets = {
                tp: by_partition[_partition(tp)] for tp in offsets if _partition(tp) in by_partition
            }
            if not offsets:
                return False
        return bool(await original_commit(self, offsets, start_new_transaction))

    ThreadDelegateConsumer.seek_to_committed = seek_to_committed  # type: ignore[method-assign]
    Consumer._commit_offsets = _commit_offsets  # type: ignore[method-assign]
    setattr(Consumer, _PATCHED, True)
