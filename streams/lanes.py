"""Concurrency across complaints, order within one, and commits only after the effect.

faust hands an agent the events of all its partitions one by one. Awaiting Temporal for each
in turn would cap the stream at one round trip per event, far below what Temporal accepts.
`KeyedLanes` runs events of different complaints concurrently and keeps each complaint's
events in order: the lane is chosen from the message key (the complaint id), so one
complaint's events always go through the same lane, one after another.

Offsets must still be committed only after Temporal accepted the effect (invariant 2).
faust commits the highest offset below which every offset was acked, but it tolerates one
unacked offset just above the last commit, so acking out of order could commit past an event
still in flight. The `PartitionLedger` (offsets.py) therefore acks each partition's events
strictly in delivery order, and, shared by every agent of a processor, also decides what
happens to events of partitions revoked in a rebalance: they are abandoned, never acked.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from streams.messages import AckableEvent, SourceMessage
from streams.offsets import PartitionLedger, Slot

log = structlog.get_logger(__name__)

Handler = Callable[[SourceMessage], Awaitable[Any]]


class KeyedLanes:
    """Runs `handler` for each submitted event: same key, same lane, in order; at most
    `max_in_flight` events between submit and ack (the agent waits, faust buffers, and the
    consumer pauses: backpressure all the way to Kafka)."""

    def __init__(
        self,
        handler: Handler,
        *,
        lanes: int,
        max_in_flight: int,
        name: str,
        ledger: PartitionLedger | None = None,
    ) -> None:
        self._handler = handler
        self._name = name
        self._queues: list[asyncio.Queue[Slot]] = [asyncio.Queue() for _ in range(lanes)]
        self._workers: list[asyncio.Task[None] | None] = [None] * lanes
        self._capacity = asyncio.Semaphore(max_in_flight)
        self._acks = ledger if ledger is not None else PartitionLedger()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def lane_of(self, message: SourceMessage) -> int:
        if message.key is not None:
            return zlib.crc32(message.key) % len(self._queues)
        return message.partition % len(self._queues)

    async def submit(self, event: AckableEvent) -> None:
        await self._capacity.acquire()
        slot = self._acks.track(event)
        if slot is None:  # a partition this processor does not own (any more): not ours
            self._capacity.release()
            return
        self._in_flight += 1
        self._idle.clear()
        lane = self.lane_of(event.message)
        self._queues[lane].put_nowait(slot)
        worker = self._workers[lane]
        if worker is None or worker.done():
            self._workers[lane] = asyncio.create_task(
                self._work(self._queues[lane]), name=f"{self._name}-lane-{lane}"
            )

    async def _work(self, queue: asyncio.Queue[Slot]) -> None:
        while True:
            slot = await queue.get()
            message = slot.event.message
            try:
                if not self._acks.is_current(slot):
                    continue  # revoked while it waited: its new owner handles it
                await self._handler(message)
            except Exception:
                # Handlers catch everything themselves; if one still raised, never ack: the
                # partition stops committing here and the event is redelivered on restart.
                log.exception(
                    "handler raised; event left unacked",
                    topic=message.topic,
                    partition=message.partition,
                    offset=message.offset,
                )
            else:
                self._acks.finish(slot)
            finally:
                self._in_flight -= 1
                if self._in_flight == 0:
                    self._idle.set()
                self._capacity.release()

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def drain(self) -> None:
        """Wait until every submitted event was handled."""
        await self._idle.wait()

    async def close(self) -> None:
        """Stop the lanes; unfinished events stay unacked and are redelivered later."""
        tasks = [task for task in self._workers if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers = [None] * len(self._queues)
