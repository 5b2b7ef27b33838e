"""complaints.received.v1 -> one ComplaintWorkflow per complaint id.

faust acks an event when the agent moves on to the next one, so awaiting Temporal inside
the loop commits an offset only after Temporal accepted the start (invariant 2). Nothing
may escape the loop: faust would ack the event that raised, and lose it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import faust
import structlog
from temporalio.client import Client

from closeloop.complaints import StartOutcome, start_complaint
from schemas import topics
from schemas.decoding import InvalidEvent, decode_complaint_received
from streams.dead_letters import DeadLetterWriter
from streams.temporal_retry import retry_transient

log = structlog.get_logger(__name__)

ClientFactory = Callable[[], Awaitable[Client]]


def register_intake(
    app: faust.App, client_factory: ClientFactory, task_queue: str, dead_letters: DeadLetterWriter
) -> faust.types.AgentT:
    """Attach the intake agent to `app` (concurrency 1: order per partition is kept)."""
    source = app.topic(topics.COMPLAINTS_RECEIVED, key_type=bytes, value_type=bytes)

    async def intake(stream: faust.StreamT[bytes]) -> AsyncIterator[StartOutcome | None]:
        async for event in stream.events():
            yield await handle_received(event.message, client_factory, task_queue, dead_letters)

    return app.agent(source, name="complaint-intake", concurrency=1)(intake)


async def handle_received(
    message: faust.types.Message,
    client_factory: ClientFactory,
    task_queue: str,
    dead_letters: DeadLetterWriter,
) -> StartOutcome | None:
    """Start the workflow for one message, or dead-letter it; never raise."""
    try:
        complaint = decode_complaint_received(message.value or b"", message.key)
    except InvalidEvent as invalid:
        await dead_letters.write(message, invalid)
        return None
    context = {"complaint_id": complaint.complaint_id, "workflow_id": complaint.complaint_id}

    async def start() -> StartOutcome:
        return await start_complaint(await client_factory(), task_queue, complaint)

    try:
        outcome = await retry_transient(start, what="start workflow", log_context=context)
    except Exception as refused:  # permanent: keep the event in the dead letters, move on
        await dead_letters.write(
            message,
            InvalidEvent("$", f"workflow start failed: {type(refused).__name__}: {refused}"),
            complaint_id=complaint.complaint_id,
            event_id=str(complaint.event_id),
        )
        return None
    log.info(
        "complaint workflow started" if outcome is StartOutcome.STARTED else "duplicate intake",
        event_id=str(complaint.event_id),
        partition=message.partition,
        offset=message.offset,
        **context,
    )
    return outcome
