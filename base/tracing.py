"""Optional OpenTelemetry tracing: one trace per event, from Kafka to the audit entry.

Off by default (`CLOSELOOP_TRACING=false`). When on, the stream processor opens a span per
event (`closeloop.stream.event`, with the complaint id), the Temporal client carries its
context into the workflow through temporalio's `TracingInterceptor` (which also traces the
worker's workflow and activity tasks), and the audit activity opens
`closeloop.audit.append`. Span attributes hold ids only (complaint id, event type, topic,
partition, offset, entry type and sequence number), never a customer's data.

Where the spans go is the process's tracer provider: `install_tracer_provider` sets one
that prints finished spans as JSON to stderr (a collector sidecar can tail it); a program
that embeds Closeloop, or a test, sets its own before.
"""

from __future__ import annotations

import sys

import opentelemetry.trace
from opentelemetry.trace import Tracer
from temporalio.client import Interceptor

from base.settings import Settings

TRACER_NAME = "closeloop"


def tracer() -> Tracer:
    return opentelemetry.trace.get_tracer(TRACER_NAME)


def client_interceptors(settings: Settings) -> list[Interceptor]:
    """What `connect` adds to every Temporal client: the tracing interceptor, when on."""
    if not settings.tracing:
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor(tracer())]


def install_tracer_provider(settings: Settings, service: str) -> None:
    """With tracing on and no provider set yet, export spans as JSON lines to stderr."""
    if not settings.tracing:
        return
    if not isinstance(
        opentelemetry.trace.get_tracer_provider(), opentelemetry.trace.ProxyTracerProvider
    ):
        return  # someone configured tracing already: theirs wins
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(
        BatchSpanProcessor(
            ConsoleSpanExporter(
                out=sys.stderr, formatter=lambda span: span.to_json(indent=None) + "\n"
            )
        )
    )
    opentelemetry.trace.set_tracer_provider(provider)
