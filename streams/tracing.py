"""The stream's span per event, when tracing is on (see base/tracing.py).

The span wraps the call to Temporal, so the client's tracing interceptor makes the workflow
start or Update its child and carries the trace into the workflow and its activities: one
trace per event, down to the audit entry. Attributes are ids only, never personal data.
"""

from __future__ import annotations

from base.complaints import StartOutcome
from base.tracing import tracer
from schemas.events import ComplaintReceived, UpdateEvent
from streams.intake import IntakeTarget
from streams.routing import Delivery
from streams.updates import UpdateTarget

SPAN = "closeloop.stream.event"


class TracedIntake:
    def __init__(self, inner: IntakeTarget, topic: str) -> None:
        self._inner, self._topic = inner, topic

    async def start(self, complaint: ComplaintReceived) -> StartOutcome:
        attributes = {
            "closeloop.complaint_id": complaint.complaint_id,
            "closeloop.event_id": str(complaint.event_id),
            "closeloop.event_type": "complaint.received",
            "messaging.destination.name": self._topic,
        }
        with tracer().start_as_current_span(SPAN, attributes=attributes) as span:
            outcome = await self._inner.start(complaint)
            span.set_attribute("closeloop.outcome", outcome.value)
            return outcome


class TracedRouter:
    def __init__(self, inner: UpdateTarget, topic: str) -> None:
        self._inner, self._topic = inner, topic

    async def deliver(self, event: UpdateEvent) -> Delivery:
        attributes = {
            "closeloop.complaint_id": event.complaint_id,
            "closeloop.event_id": str(event.event_id),
            "closeloop.event_type": event.event_type,
            "messaging.destination.name": self._topic,
        }
        with tracer().start_as_current_span(SPAN, attributes=attributes) as span:
            delivery = await self._inner.deliver(event)
            span.set_attribute("closeloop.outcome", delivery.status.value)
            return delivery
