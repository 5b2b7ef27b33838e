"""complaints.received.v1 -> one ComplaintWorkflow per complaint id.

An event is acked (its offset becomes committable) only after `handle_received` returned,
that is after Temporal accepted the start or the dead letter is durable (invariant 2).
Nothing may escape the handler: anything unexpected is dead-lettered as `internal` with the
original bytes, and transient Temporal trouble is retried inside, forever, never
dead-lettered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

import structlog
from temporalio.client import Client

from base.complaints import StartOutcome, start_complaint
from base.temporal_retry import retry_transient
from schemas.dead_letter import DeadLetterKind
from schemas.decoding import InvalidEvent, decode_complaint_received
from schemas.events import ComplaintReceived
from streams.dead_letters import DeadLetterSink
from streams.dedupe import RecentEvents
from streams.messages import Outcome, SourceMessage

log = structlog.get_logger(__name__)

ClientFactory = Callable[[], Awaitable[Client]]


class IntakeTarget(Protocol):
    """Starts a complaint's workflow; retries transient trouble itself, raises refusals."""

    async def start(self, complaint: ComplaintReceived) -> StartOutcome: ...


class TemporalIntake:
    def __init__(
        self,
        client_factory: ClientFactory,
        task_queue: str,
        *,
        on_retry: Callable[[], None] | None = None,
    ) -> None:
        self._client_factory = client_factory
        self._task_queue = task_queue
        self._on_retry = on_retry

    async def start(self, complaint: ComplaintReceived) -> StartOutcome:
        async def start() -> StartOutcome:
            client = await self._client_factory()
            return await start_complaint(client, self._task_queue, complaint)

        return await retry_transient(
            start,
            what="start workflow",
            log_context={"complaint_id": complaint.complaint_id},
            on_retry=self._on_retry,
        )


async def handle_received(
    message: SourceMessage,
    target: IntakeTarget,
    dead_letters: DeadLetterSink,
    recent: RecentEvents | None = None,
) -> Outcome:
    """Start the workflow for one message, or dead-letter it; never raises."""
    try:
        return await _handle(message, target, dead_letters, recent)
    except Exception as exc:
        return await dead_letter_internal(message, exc, dead_letters)


async def _handle(
    message: SourceMessage,
    target: IntakeTarget,
    dead_letters: DeadLetterSink,
    recent: RecentEvents | None,
) -> Outcome:
    try:
        complaint = decode_complaint_received(message.value or b"", message.key, message.headers)
    except InvalidEvent as invalid:
        await dead_letters.write(message, invalid, DeadLetterKind.INVALID)
        return Outcome.DEAD_LETTERED
    seen_key = (message.topic, str(complaint.event_id))
    context = {
        "complaint_id": complaint.complaint_id,
        "event_id": str(complaint.event_id),
        "partition": message.partition,
        "offset": message.offset,
    }
    if recent is not None and seen_key in recent:
        log.info("duplicate event skipped", **context)
        return Outcome.DUPLICATE
    try:
        outcome = await target.start(complaint)
    except Exception as refused:  # permanent: keep the event in the dead letters, move on
        reason = f"Temporal refused the workflow start: {type(refused).__name__}: {refused}"
        await dead_letters.write(
            message,
            InvalidEvent("$", reason[:500], str(complaint.event_id), complaint.complaint_id),
            DeadLetterKind.INTERNAL,
        )
        return Outcome.DEAD_LETTERED
    if recent is not None:
        recent.remember(seen_key)
    if outcome is StartOutcome.STARTED:
        log.info("complaint workflow started", **context)
        return Outcome.STARTED
    log.info("duplicate intake", **context)
    return Outcome.DUPLICATE


async def dead_letter_internal(
    message: SourceMessage, error: Exception, dead_letters: DeadLetterSink
) -> Outcome:
    """Our bug, not the producer's: keep the bytes so the event can be replayed once fixed."""
    log.exception(
        "internal error while handling an event",
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
    )
    reason = f"internal error: {type(error).__name__}; see the stream processor's log"
    await dead_letters.write(message, InvalidEvent("$", reason), DeadLetterKind.INTERNAL)
    return Outcome.DEAD_LETTERED
