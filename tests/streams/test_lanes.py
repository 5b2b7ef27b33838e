"""Lanes: complaints run concurrently, one complaint's events in order, and offsets are acked
only in offset order per partition, after the handler finished (commit-after-accept)."""

from __future__ import annotations

import asyncio
import random
from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st

from streams.lanes import KeyedLanes
from streams.messages import SourceMessage
from streams.offsets import PartitionLedger
from tests.streams.doubles import Event, Message


def make_events(keys: list[bytes], partitions: int = 3) -> tuple[list[Event], list]:
    acked: list[tuple[int, int]] = []
    offsets = [0] * partitions
    events = []
    for key in keys:
        partition = sum(key) % partitions
        events.append(Event(Message("t", b"", key, partition, offsets[partition]), acked))
        offsets[partition] += 1
    return events, acked


@settings(max_examples=60, deadline=None)
@given(
    keys=st.lists(st.sampled_from([b"A", b"B", b"C", b"D", b"E", b"F"]), min_size=1, max_size=60),
    seed=st.integers(0, 2**32),
    lanes=st.integers(1, 8),
    max_in_flight=st.integers(1, 20),
)
def test_order_per_key_and_acks_in_offset_order(keys, seed, lanes, max_in_flight) -> None:
    rng = random.Random(seed)
    events, acked = make_events(keys)
    handled: list[SourceMessage] = []
    most_in_flight = 0

    async def scenario() -> None:
        nonlocal most_in_flight
        pool: KeyedLanes

        async def handler(message: SourceMessage) -> None:
            nonlocal most_in_flight
            most_in_flight = max(most_in_flight, pool.in_flight)
            await asyncio.sleep(rng.random() / 1000)
            handled.append(message)
            # An event is never acked before its handler finished.
            assert (message.partition, message.offset) not in acked

        pool = KeyedLanes(handler, lanes=lanes, max_in_flight=max_in_flight, name="t")
        for event in events:
            await pool.submit(event)
        await pool.drain()
        await pool.close()

    asyncio.run(scenario())
    assert len(handled) == len(events)
    assert most_in_flight <= max_in_flight
    for key in set(keys):
        assert [m.offset for m in handled if m.key == key] == [
            e.message.offset for e in events if e.message.key == key
        ]
    for partition in range(3):
        offsets = [offset for p, offset in acked if p == partition]
        assert offsets == sorted(offsets) == list(range(len(offsets)))
    assert len(acked) == len(events)


def test_different_complaints_run_concurrently() -> None:
    events, _ = make_events([f"K{i}".encode() for i in range(20)])
    running = 0
    peak = 0

    async def handler(message: SourceMessage) -> None:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        running -= 1

    async def scenario() -> float:
        pool = KeyedLanes(handler, lanes=32, max_in_flight=64, name="t")
        started = asyncio.get_running_loop().time()
        for event in events:
            await pool.submit(event)
        await pool.drain()
        await pool.close()
        return asyncio.get_running_loop().time() - started

    elapsed = asyncio.run(scenario())
    assert peak >= 10
    assert elapsed < 0.5  # 20 x 50 ms one after another would take a second


def test_a_handler_that_raises_leaves_its_event_and_later_ones_unacked() -> None:
    events, acked = make_events([b"A", b"A", b"A"], partitions=1)

    async def handler(message: SourceMessage) -> None:
        if message.offset == 1:
            raise RuntimeError("bug")

    async def scenario() -> None:
        pool = KeyedLanes(handler, lanes=4, max_in_flight=8, name="t")
        for event in events:
            await pool.submit(event)
        await pool.drain()
        await pool.close()

    asyncio.run(scenario())
    assert acked == [(0, 0)]  # 1 failed, so 2 must wait: a commit never passes offset 1


def test_ordered_acks_holds_later_offsets_until_earlier_ones_finish() -> None:
    events, acked = make_events([b"A", b"B", b"C"], partitions=1)
    acks = PartitionLedger()
    slots = [slot for event in events if (slot := acks.track(event)) is not None]
    assert len(slots) == 3  # an unmanaged ledger owns every partition
    assert acks.finish(slots[2]) == 0 and acks.finish(slots[1]) == 0
    assert acked == []
    assert acks.finish(slots[0]) == 3
    assert acked == [(0, 0), (0, 1), (0, 2)] and acks.waiting() == 0


def test_a_gap_in_offsets_never_counts_the_fetched_message_as_acked() -> None:
    from collections import defaultdict

    from faust.transport.consumer import Consumer
    from intervaltree import IntervalTree

    from streams.faust_fixes import exclude_fetched_message_from_gap

    exclude_fetched_message_from_gap()

    class Bookkeeping:
        _committed_offset: Any = defaultdict(lambda: None, {"tp": 5})
        _gap: Any = defaultdict(IntervalTree)

    consumer = Bookkeeping()
    # Read offset 10, then fetched 13 (11 and 12 are transaction markers): only 11-12 are gap.
    asyncio.run(Consumer._add_gap(cast(Any, consumer), cast(Any, "tp"), 11, 13))
    covered = sorted(o for iv in consumer._gap["tp"] for o in range(iv.begin, iv.end))
    assert covered == [11, 12]
