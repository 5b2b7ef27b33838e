"""With CLOSELOOP_TRACING on, one complaint is one trace: stream span, workflow, audit append.

A real Temporal dev server and a real worker (the real workflows and audit activity on a
SQLite audit log); the event goes through the stream's own handler and targets, as the
processor wires them. Spans land in the OpenTelemetry SDK's in-memory exporter.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import opentelemetry.trace
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from temporalio import activity
from temporalio.worker import Worker

from activities.audit import AuditActivities
from activities.customer_messages import MessageActivities
from activities.policy import PolicyActivities
from activities.similarity import SimilarityActivities
from audit.similarity_index import SimilarityTable
from audit.store import AuditLog
from base.settings import Settings
from base.temporal import connect, ensure_search_attributes
from closeloop.worker import WORKFLOWS
from schemas import topics
from schemas.customer_message import MessagePolicy
from schemas.status_event import ComplaintStatusEvent
from streams.intake import TemporalIntake, handle_received
from streams.tracing import TracedIntake
from tests.conftest import eventually
from tests.deploy.temporal_dev import dev_server
from tests.e2e.test_intake import complaint_event
from tests.streams.doubles import Message, RecordingDeadLetters

pytestmark = pytest.mark.e2e

EXPORTER = InMemorySpanExporter()


@activity.defn(name="publish_status_event")
def publish_status_event(event: ComplaintStatusEvent) -> None:
    """Status events go nowhere here; the intake e2e tests cover the broker."""


def append_spans() -> list:
    return [s for s in EXPORTER.get_finished_spans() if s.name == "closeloop.audit.append"]


@pytest.fixture(scope="module", autouse=True)
def tracer_provider() -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    opentelemetry.trace.set_tracer_provider(provider)


async def test_one_complaint_is_one_trace_from_the_event_to_its_audit_entry(tmp_path: Path):
    with dev_server(tmp_path, namespace="default") as address:
        settings = Settings(home=tmp_path / "home", temporal_address=address, tracing=True)
        client = await connect(settings, budget_s=60)
        await ensure_search_attributes(client, settings.temporal_namespace)
        audit_log = AuditLog.from_url(f"sqlite:///{tmp_path / 'audit.db'}")
        activities: list[Callable[..., Any]] = [
            AuditActivities(audit_log).record_audit_entry,
            PolicyActivities(settings.deadlines).load_deadline_policy,
            MessageActivities(MessagePolicy(enabled=False), "unused:9092").load_message_policy,
            SimilarityActivities(SimilarityTable(audit_log.engine)).find_similar_complaints,
            publish_status_event,
        ]
        complaint_id = f"TRACE-{uuid.uuid4().hex[:10]}"
        event = complaint_event(complaint_id)
        message = Message(
            topics.COMPLAINTS_RECEIVED, json.dumps(event).encode(), key=complaint_id.encode()
        )

        async def connected():
            return client

        intake = TracedIntake(
            TemporalIntake(connected, settings.task_queue), topics.COMPLAINTS_RECEIVED
        )
        with ThreadPoolExecutor(max_workers=4) as executor:
            async with Worker(
                client,
                task_queue=settings.task_queue,
                workflows=WORKFLOWS,
                activities=activities,
                activity_executor=executor,
            ):
                outcome = await handle_received(message, intake, RecordingDeadLetters())
                assert outcome.value == "started"
                appended = await eventually(
                    lambda: asyncio.to_thread(append_spans),
                    lambda spans: len(spans) >= 1,
                    timeout=120,
                )
    spans = EXPORTER.get_finished_spans()
    (stream,) = [s for s in spans if s.name == "closeloop.stream.event"]
    assert (stream.attributes or {})["closeloop.complaint_id"] == complaint_id
    trace_id = stream.context.trace_id
    assert appended, "the audit append made no span"
    received = [s for s in appended if s.attributes["closeloop.entry_type"] == "complaint.received"]
    assert received and all(s.context.trace_id == trace_id for s in received)
    assert (received[0].attributes or {})["closeloop.complaint_id"] == complaint_id
    in_trace = {s.name for s in spans if s.context.trace_id == trace_id}
    assert any(name.startswith("StartWorkflow:") for name in in_trace), in_trace
    assert any(name.startswith("RunWorkflow:") for name in in_trace), in_trace
    assert any(name.startswith("RunActivity:record_audit_entry") for name in in_trace)
    # Ids only: nothing the customer told us (name, email, summary) is on any span.
    text = json.dumps([dict(s.attributes or {}) for s in spans])
    for personal in ("Test Person", "t@example.com", "The lid cracked"):
        assert personal not in text
