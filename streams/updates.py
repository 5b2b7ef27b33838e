"""complaints.updates.v1 -> the complaint's workflow, as an Update or a Signal.

Same rules as the intake: acked only after Temporal accepted the effect or the dead letter
is durable; nothing escapes; transient trouble is retried, never dead-lettered.

Out of order across topics: a follow-up may be consumed before its complaint's
`complaint.received` event, which travels on the other topic. A follow-up for a complaint
without a workflow therefore waits, retrying with backoff, for up to
`CLOSELOOP_STREAM_UNKNOWN_COMPLAINT_WAIT_S` (30 s) before it is dead-lettered as
`unknown_complaint`. While it waits, only its own lane waits; other complaints move on.
"""

from __future__ import annotations

from typing import Protocol

import structlog

from base.retry import retry_until
from schemas.dead_letter import DeadLetterKind
from schemas.decoding import InvalidEvent, decode_update
from schemas.events import UpdateEvent
from streams.dead_letters import DeadLetterSink
from streams.dedupe import RecentEvents
from streams.intake import dead_letter_internal
from streams.messages import Outcome, SourceMessage
from streams.routing import Delivered, Delivery

log = structlog.get_logger(__name__)


class UpdateTarget(Protocol):
    """Delivers a follow-up to its workflow; retries transient trouble itself."""

    async def deliver(self, event: UpdateEvent) -> Delivery: ...


async def handle_update(
    message: SourceMessage,
    target: UpdateTarget,
    dead_letters: DeadLetterSink,
    recent: RecentEvents | None = None,
    *,
    unknown_complaint_wait: float = 30.0,
) -> Outcome:
    """Route one follow-up event to its workflow, or dead-letter it; never raises."""
    try:
        return await _handle(message, target, dead_letters, recent, unknown_complaint_wait)
    except Exception as exc:
        return await dead_letter_internal(message, exc, dead_letters)


async def _handle(
    message: SourceMessage,
    target: UpdateTarget,
    dead_letters: DeadLetterSink,
    recent: RecentEvents | None,
    unknown_complaint_wait: float,
) -> Outcome:
    try:
        event = decode_update(message.value or b"", message.key, message.headers)
    except InvalidEvent as invalid:
        await dead_letters.write(message, invalid, DeadLetterKind.INVALID)
        return Outcome.DEAD_LETTERED
    event_id = str(event.event_id)
    context = {
        "complaint_id": event.complaint_id,
        "event_id": event_id,
        "event_type": event.event_type,
        "partition": message.partition,
        "offset": message.offset,
    }
    seen_key = (message.topic, event_id)
    if recent is not None and seen_key in recent:
        log.info("duplicate event skipped", **context)
        return Outcome.DUPLICATE

    delivery = await _deliver_when_known(event, target, unknown_complaint_wait)
    if delivery.status is Delivered.APPLIED:
        if recent is not None:
            recent.remember(seen_key)
        log.info("follow-up applied", **context)
        return Outcome.APPLIED
    if delivery.status is Delivered.UNKNOWN:
        kind, field = DeadLetterKind.UNKNOWN_COMPLAINT, "$.complaint_id"
        reason = (
            f"{delivery.reason}: no workflow after waiting {unknown_complaint_wait:g} s for "
            "its complaint.received event"
        )
    elif delivery.status is Delivered.CONFLICT:
        kind, field, reason = DeadLetterKind.CONFLICT, "$.event_id", delivery.reason
    else:
        kind, field, reason = DeadLetterKind.REFUSED, "$", delivery.reason
    await dead_letters.write(
        message,
        InvalidEvent(field, f"{event.event_type}: {reason}", event_id, event.complaint_id),
        kind,
    )
    return Outcome.DEAD_LETTERED


async def _deliver_when_known(event: UpdateEvent, target: UpdateTarget, wait: float) -> Delivery:
    """Deliver; while the complaint is unknown, try again until `wait` seconds have passed."""
    return await retry_until(
        lambda: target.deliver(event),
        lambda delivery: delivery.status is not Delivered.UNKNOWN,
        what="complaint not known yet, waiting for its intake",
        budget_s=wait,
        log_context={"complaint_id": event.complaint_id, "event_id": str(event.event_id)},
    )
