"""Concurrency across complaints, order within one, and commits only after the effect.

faust hands an agent the events of all its partitions one by one. Awaiting Temporal for each
in turn would cap the stream at one round trip per event, far below what Temporal accepts.
`KeyedLanes` runs events of different complaints concurrently and keeps each complaint's
events in order: the lane is chosen from the message key (the complaint id), so one
complaint's events always go through the same lane, one after another.

Offsets must still be committed only after Temporal accepted the effect (invariant 2).
faust commits the highest offset below which every offset was acked, but it tolerates one
unacked offset just above the last commit, so acking out of order could commit past an event
still in flight. `OrderedAcks` therefore acks each partition's events strictly in offset
order: an event is acked only when it and every event before it in its partition is done.
"""

from __future__ import annotations

import asyncio
import zlib
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import structlog

from streams.messages import AckableEvent, SourceMessage

log = structlog.get_logger(__name__)

Handler = Callable[[SourceMessage], Awaitable[Any]]


@dataclass(eq=False)
class _Slot:
    event: AckableEvent
    done: bool = False


@dataclass
class OrderedAcks:
    """Acks events per (topic, partition) in the order they were tracked (offset order)."""

    _pending: dict[tuple[str, int], deque[_Slot]] = field(default_factory=dict)

    def track(self, event: AckableEvent) -> _Slot:
        slot = _Slot(event)
        tp = (event.message.topic, event.message.partition)
        self._pending.setdefault(tp, deque()).append(slot)
        return slot

    def finish(self, slot: _Slot) -> int:
        """Mark `slot` done; ack it and any done successors at the head. Returns acks made."""
        slot.done = True
        tp = (slot.event.message.topic, slot.event.message.partition)
        queue = self._pending.get(tp)
        acked = 0
        while queue and queue[0].done:
            queue.popleft().event.ack()
            acked += 1
        if queue is not None and not queue:
            del self._pending[tp]
        return acked

    def waiting(self) -> int:
        return sum(len(queue) for queue in self._pending.values())


class KeyedLanes:
    """Runs `handler` for each submitted event: same key, same lane, in order; at most
    `max_in_flight` events between submit and ack (the agent waits, faust buffers, and the
    consumer pauses: backpressure all the way to Kafka)."""

    def __init__(self, handler: Handler, *, lanes: int, max_in_flight: int, name: str) -> None:
        self._handler = handler
        self._name = name
        self._queues: list[asyncio.Queue[_Slot]] = [asyncio.Queue() for _ in range(lanes)]
        self._workers: list[asyncio.Task[None] | None] = [None] * lanes
        self._capacity = asyncio.Semaphore(max_in_flight)
        self._acks = OrderedAcks()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def lane_of(self, message: SourceMessage) -> int:
        if message.key is not None:
            return zlib.crc32(message.key) % len(self._queues)
        return message.partition % len(self._queues)

    async def submit(self, event: AckableEvent) -> None:
        await self._capacity.acquire()
        self._in_flight += 1
        self._idle.clear()
        slot = self._acks.track(event)
        lane = self.lane_of(event.message)
        self._queues[lane].put_nowait(slot)
        worker = self._workers[lane]
        if worker is None or worker.done():
            self._workers[lane] = asyncio.create_task(
                self._work(self._queues[lane]), name=f"{self._name}-lane-{lane}"
            )

    async def _work(self, queue: asyncio.Queue[_Slot]) -> None:
        while True:
            slot = await queue.get()
            message = slot.event.message
            try:
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
