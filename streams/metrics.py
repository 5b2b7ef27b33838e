"""The stream processor's Prometheus metrics, and the wrappers that count them.

Counting lives here, around the handlers and their targets, so the handlers stay about
events: `counted` counts what each agent consumed and accepted, `CountingDeadLetters` what
went to the dead letters (by reason: the dead letter's kind, a closed set), the measured
targets how long an event took from its `occurred_at` to Temporal's acceptance.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime

from prometheus_client import Counter, Gauge, Histogram

from base.complaints import StartOutcome
from base.consumer_lag import PartitionLag
from schemas.dead_letter import DeadLetter, DeadLetterKind
from schemas.decoding import InvalidEvent
from schemas.events import ComplaintReceived, UpdateEvent
from streams.dead_letters import DeadLetterSink
from streams.intake import IntakeTarget
from streams.messages import Outcome, SourceMessage
from streams.routing import Delivered, Delivery
from streams.updates import UpdateTarget

CONSUMED = Counter(
    "closeloop_stream_events_consumed", "Events taken from Kafka and handled", ["topic"]
)
ACCEPTED = Counter(
    "closeloop_stream_events_accepted",
    "Events whose effect Temporal accepted (started, applied, or already done: duplicate)",
    ["topic", "outcome"],
)
DEAD_LETTERED = Counter(
    "closeloop_stream_events_dead_lettered",
    "Events written to complaints.dlq.v1, by the dead letter's kind",
    ["topic", "reason"],
)
RETRIED = Counter(
    "closeloop_stream_events_retried",
    "Attempts repeated because Temporal was unreachable or throttling (backpressure)",
    ["topic"],
)
CONSUMER_LAG = Gauge(
    "closeloop_stream_consumer_lag",
    "Events on the partition not yet committed by the stream's consumer group",
    ["topic", "partition"],
)
ACCEPT_LATENCY = Histogram(
    "closeloop_stream_accept_latency_seconds",
    "From the event's occurred_at to Temporal accepting its effect",
    ["topic"],
    buckets=(0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
)

Handler = Callable[[SourceMessage], Awaitable[Outcome]]


def counted(topic: str, handler: Handler) -> Handler:
    """`handler`, counting each event consumed and each accepted (dead letters count in the
    sink, where the reason is known)."""
    consumed = CONSUMED.labels(topic=topic)

    async def handle(message: SourceMessage) -> Outcome:
        outcome = await handler(message)
        consumed.inc()
        if outcome is not Outcome.DEAD_LETTERED:
            ACCEPTED.labels(topic=topic, outcome=outcome.value).inc()
        return outcome

    return handle


def retried(topic: str) -> Callable[[], None]:
    return RETRIED.labels(topic=topic).inc


def _observe(topic: str, occurred_at: datetime) -> None:
    ACCEPT_LATENCY.labels(topic=topic).observe(
        max(0.0, (datetime.now(UTC) - occurred_at).total_seconds())
    )


class CountingDeadLetters:
    def __init__(self, inner: DeadLetterSink) -> None:
        self._inner = inner

    async def write(
        self, message: SourceMessage, error: InvalidEvent, kind: DeadLetterKind
    ) -> DeadLetter:
        letter = await self._inner.write(message, error, kind)
        DEAD_LETTERED.labels(topic=message.topic, reason=kind.value).inc()
        return letter


class MeasuredIntake:
    """Observes the accept latency of complaints whose workflow this start created (a
    duplicate start of an old event would only measure how late it was replayed)."""

    def __init__(self, inner: IntakeTarget, topic: str) -> None:
        self._inner, self._topic = inner, topic

    async def start(self, complaint: ComplaintReceived) -> StartOutcome:
        outcome = await self._inner.start(complaint)
        if outcome is StartOutcome.STARTED:
            _observe(self._topic, complaint.occurred_at)
        return outcome


class MeasuredRouter:
    def __init__(self, inner: UpdateTarget, topic: str) -> None:
        self._inner, self._topic = inner, topic

    async def deliver(self, event: UpdateEvent) -> Delivery:
        delivery = await self._inner.deliver(event)
        if delivery.status is Delivered.APPLIED:
            _observe(self._topic, event.occurred_at)
        return delivery


def record_lag(lags: Iterable[PartitionLag]) -> None:
    """Replace the gauge's series: a partition that went away leaves no stale value."""
    CONSUMER_LAG.clear()
    for item in lags:
        CONSUMER_LAG.labels(topic=item.topic, partition=str(item.partition)).set(item.lag)
