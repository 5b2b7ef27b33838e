"""The ledger is wired into faust where it matters: the seek to the committed offsets starts an
epoch, a revocation (or an assignment without the partition) ends it, and a commit the ledger
cannot vouch for never reaches the broker. The whole path runs against the real broker in
test_scale_out.py; these pin each hook to the pinned faust-streaming."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import faust
from faust.transport.consumer import Consumer, ThreadDelegateConsumer
from faust.types import TP

from streams.rebalance import attach_ledger


def offline_app(name: str) -> faust.App:
    return faust.App(name, broker="kafka://127.0.0.1:1", web_enabled=False)


def test_revocation_and_reassignment_end_the_epochs_of_partitions_that_left() -> None:
    app = offline_app("t-hooks-revoke")
    ledger = attach_ledger(app)
    for partition in (("a", 0), ("a", 1), ("a", 2)):
        ledger.begin(partition, start=5, generation=1)

    async def scenario() -> None:
        await app.on_partitions_revoked.send({TP("a", 0)})
        assert ledger.owned() == {("a", 1), ("a", 2)}
        await app.on_partitions_assigned.send({TP("a", 2)})
        assert ledger.owned() == {("a", 2)}

    asyncio.run(scenario())


def test_the_seek_to_committed_offsets_starts_an_epoch_per_partition() -> None:
    app = offline_app("t-hooks-seek")
    ledger = attach_ledger(app)
    app.consumer_generation_id = 7

    class Thread:
        async def seek_to_committed(self) -> dict[TP, int | None]:
            return {TP("a", 0): 40, TP("a", 1): None}

    consumer = SimpleNamespace(_thread=Thread(), app=app)
    committed = asyncio.run(ThreadDelegateConsumer.seek_to_committed(consumer))  # type: ignore[arg-type]
    assert committed == {TP("a", 0): 40, TP("a", 1): None}
    assert ledger.owned() == {("a", 0), ("a", 1)}
    # Nothing finished yet in the new epochs: nothing may be committed.
    assert ledger.clamp({("a", 0): 90, ("a", 1): 3}) == {}


def test_a_commit_of_nothing_finished_here_never_reaches_the_broker() -> None:
    app = offline_app("t-hooks-commit")
    ledger = attach_ledger(app)
    ledger.begin(("a", 0), start=10, generation=1)
    # A consumer without any broker machinery: faust's own commit would fail on it, so
    # returning False proves the proposal was dropped before it.
    consumer = SimpleNamespace(app=app)
    proposed = {TP("a", 0): 25}
    assert asyncio.run(Consumer._commit_offsets(consumer, proposed)) is False  # type: ignore[arg-type]
