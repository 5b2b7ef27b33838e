"""The partition ledger: what a processor may commit while partitions move between processors.

Whatever faust proposes, a commit never passes an event that was not finished here, events of
revoked partitions are never acked, and events fetched for an older generation are not
handled at all (their new owner reads them again from the committed offset)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from streams.lanes import KeyedLanes
from streams.messages import SourceMessage
from streams.offsets import PartitionLedger, Slot
from tests.streams.doubles import Event, Message

TP = ("complaints.received.v1", 0)


@dataclass
class FetchedMessage(Message):
    generation_id: int | None = None


def events(offsets: range, acked: list, generation: int | None = None) -> list[Event]:
    return [
        Event(FetchedMessage(TP[0], b"", b"K", TP[1], offset, None, generation), acked)
        for offset in offsets
    ]


def tracked(ledger: PartitionLedger, event: Event) -> Slot:
    slot = ledger.track(event)
    assert slot is not None, "the ledger refused an event of an owned partition"
    return slot


def test_a_commit_never_passes_the_first_unfinished_event_whatever_faust_proposes() -> None:
    acked: list = []
    ledger = PartitionLedger(managed=True)
    ledger.begin(TP, start=100, generation=3)
    slots = [tracked(ledger, event) for event in events(range(100, 105), acked, 3)]
    for slot in slots[:2]:
        ledger.finish(slot)
    ledger.finish(slots[3])  # done, but 102 is still running
    assert ledger.safe_offset(TP) == 102
    # faust's gap and tolerance bugs would propose committing past 102: it is cut back.
    assert ledger.clamp({TP: 105}) == {TP: 102}
    assert ledger.clamp({TP: 101}) == {TP: 101}
    ledger.finish(slots[2])
    assert ledger.clamp({TP: 105}) == {TP: 104}  # 104 still unfinished
    ledger.finish(slots[4])
    # Nothing was finished here past 104: offsets faust counts as "acked gaps" stay uncommitted.
    assert ledger.clamp({TP: 200}) == {TP: 105}


def test_events_of_a_revoked_partition_are_abandoned_never_acked() -> None:
    acked: list = []
    ledger = PartitionLedger(managed=True)
    ledger.begin(TP, start=0, generation=1)
    slots = [tracked(ledger, event) for event in events(range(0, 3), acked, 1)]
    ledger.finish(slots[0])
    assert ledger.end([TP]) == 2
    # The running handler of offset 1 completes after the revocation: nothing is acked.
    assert ledger.finish(slots[1]) == 0
    assert acked == [(0, 0)]
    assert not ledger.is_current(slots[2])
    assert ledger.clamp({TP: 3}) == {}
    # Not owned any more: a late event of the partition is not handled here.
    assert ledger.track(events(range(3, 4), acked, 1)[0]) is None


def test_reassigned_partition_starts_again_at_the_committed_offset() -> None:
    acked: list = []
    ledger = PartitionLedger(managed=True)
    ledger.begin(TP, start=10, generation=1)
    old = [tracked(ledger, event) for event in events(range(10, 14), acked, 1)]
    ledger.begin(TP, start=10, generation=2)  # revoked and assigned back, seeked to 10
    # A message fetched for generation 1 but delivered after the rebalance is refused.
    assert ledger.track(events(range(14, 15), acked, 1)[0]) is None
    new = [tracked(ledger, event) for event in events(range(10, 12), acked, 2)]
    for slot in old:
        assert ledger.finish(slot) == 0
    assert ledger.safe_offset(TP) is None  # nothing of the new epoch finished yet
    for slot in new:
        ledger.finish(slot)
    assert ledger.clamp({TP: 12}) == {TP: 12}
    assert [offset for _, offset in acked] == [10, 11]


def test_a_first_event_past_the_committed_offset_holds_commits_there() -> None:
    acked: list = []
    ledger = PartitionLedger(managed=True)
    ledger.begin(TP, start=50, generation=4)
    # Offsets 50 to 59 never reached the agent (faust dropped them): 60 arrives first.
    slots = [tracked(ledger, event) for event in events(range(60, 63), acked, 4)]
    for slot in slots:
        ledger.finish(slot)
    assert ledger.safe_offset(TP) == 50
    assert ledger.clamp({TP: 63}) == {}  # never past 50, and 50 is already committed


def test_lanes_skip_events_revoked_while_they_waited_and_free_their_capacity() -> None:
    acked: list = []
    ledger = PartitionLedger(managed=True)
    ledger.begin(TP, start=0, generation=1)
    handled: list[int] = []
    release = asyncio.Event()

    async def handler(message: SourceMessage) -> None:
        if message.offset == 0:
            await release.wait()
        handled.append(message.offset)

    async def scenario() -> None:
        lanes = KeyedLanes(handler, lanes=1, max_in_flight=4, name="t", ledger=ledger)
        for event in events(range(0, 4), acked, 1):
            await lanes.submit(event)
        await asyncio.sleep(0.01)
        ledger.end([TP])  # revoked while offset 0 runs and 1..3 wait in the lane
        release.set()
        await lanes.drain()
        # Not owned: refused at once, without taking capacity or running the handler.
        await lanes.submit(events(range(4, 5), acked, 1)[0])
        assert lanes.in_flight == 0
        await lanes.close()

    asyncio.run(scenario())
    assert handled == [0]
    assert acked == []
