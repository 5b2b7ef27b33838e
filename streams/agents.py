"""The two agents: complaint intake and follow-up routing, each over its own lanes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

import faust

from schemas import topics
from streams.config import StreamSettings
from streams.dead_letters import DeadLetterSink
from streams.dedupe import RecentEvents
from streams.intake import IntakeTarget, handle_received
from streams.lanes import KeyedLanes
from streams.messages import Outcome, SourceMessage
from streams.metrics import counted
from streams.offsets import PartitionLedger
from streams.shipments import ShipmentTarget, handle_shipment
from streams.updates import UpdateTarget, handle_update

Handler = Callable[[SourceMessage], Awaitable[Outcome]]


def lanes_agent(
    app: faust.App,
    topic: str,
    name: str,
    handler: Handler,
    settings: StreamSettings,
    ledger: PartitionLedger | None = None,
) -> faust.types.AgentT:
    """An agent that feeds `topic` into KeyedLanes and acks in offset order (see lanes.py).

    `concurrency=1`: one reader per topic keeps the per-partition order that the lanes rely
    on; the lanes, not faust actors, provide the concurrency across complaints. `ledger`,
    shared by the app's agents, decides which partitions are this processor's (offsets.py).
    """
    source = app.topic(topic, key_type=bytes, value_type=bytes)
    handler = counted(topic, handler)

    async def run(stream: faust.StreamT[bytes]) -> None:
        lanes = KeyedLanes(
            handler,
            lanes=settings.lanes,
            max_in_flight=settings.max_in_flight,
            name=name,
            ledger=ledger,
        )
        try:
            # Manual acks: the lanes ack each event once it (and all before it) is done.
            manual: Any = cast(Any, stream).noack()
            async for event in manual.events():
                await lanes.submit(event)
        finally:
            await lanes.close()

    return app.agent(source, name=name, concurrency=1)(run)


def register_agents(
    app: faust.App,
    *,
    intake: IntakeTarget,
    router: UpdateTarget,
    dead_letters: DeadLetterSink,
    settings: StreamSettings,
    shipments: ShipmentTarget | None = None,
    ledger: PartitionLedger | None = None,
) -> list[faust.types.AgentT]:
    recent = RecentEvents(settings.recent_event_ids)

    async def on_received(message: SourceMessage) -> Outcome:
        return await handle_received(message, intake, dead_letters, recent)

    async def on_update(message: SourceMessage) -> Outcome:
        return await handle_update(
            message,
            router,
            dead_letters,
            recent,
            unknown_complaint_wait=settings.unknown_complaint_wait_s,
        )

    agents = [
        lanes_agent(
            app, topics.COMPLAINTS_RECEIVED, "complaint-intake", on_received, settings, ledger
        ),
        lanes_agent(
            app, topics.COMPLAINTS_UPDATES, "complaint-updates", on_update, settings, ledger
        ),
    ]
    if shipments is not None:
        target = shipments

        async def on_shipment(message: SourceMessage) -> Outcome:
            return await handle_shipment(message, target, dead_letters)

        topic = topics.OPERATIONS_SHIPMENTS
        agents.append(lanes_agent(app, topic, "shipments", on_shipment, settings, ledger))
    return agents
