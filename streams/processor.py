"""Building and running the stream processor with everything it needs."""

from __future__ import annotations

import asyncio

import faust
from temporalio.client import Client
from temporalio.runtime import Runtime

from base.health import metrics_runtime
from base.settings import Settings
from base.temporal import connect
from base.tracing import install_tracer_provider
from schemas import topics
from streams import metrics
from streams.agents import register_agents
from streams.app import create_app
from streams.config import StreamSettings, load_stream_settings
from streams.dead_letters import DeadLetterWriter
from streams.intake import IntakeTarget, TemporalIntake
from streams.probes import add_probes
from streams.rebalance import attach_ledger
from streams.routing import TemporalRouter
from streams.shipments import AuditShipments
from streams.tracing import TracedIntake, TracedRouter
from streams.updates import UpdateTarget


class LazyTemporalClient:
    """One Temporal client per process, made inside faust's event loop on first use.

    Connecting lazily lets the processor start (and join its consumer group) while Temporal
    is still down; the first event then waits, retrying, until Temporal answers.
    """

    def __init__(self, settings: Settings, runtime: Runtime | None = None) -> None:
        self._settings = settings
        self._runtime = runtime
        self._client: Client | None = None
        self._lock = asyncio.Lock()

    async def __call__(self) -> Client:
        if self._client is not None:
            return self._client
        async with self._lock:
            if self._client is None:
                self._client = await connect(self._settings, runtime=self._runtime)
            return self._client


def build_processor(settings: Settings, stream_settings: StreamSettings | None = None) -> faust.App:
    app = create_app(settings)
    stream_settings = stream_settings or load_stream_settings()
    runtime, sdk_metrics_url = metrics_runtime() if stream_settings.metrics_port else (None, "")
    client = LazyTemporalClient(settings, runtime)
    received, updates = topics.COMPLAINTS_RECEIVED, topics.COMPLAINTS_UPDATES
    intake: IntakeTarget = TemporalIntake(
        client, settings.task_queue, on_retry=metrics.retried(received)
    )
    router: UpdateTarget = TemporalRouter(client, on_retry=metrics.retried(updates))
    if settings.tracing:  # the span encloses the Temporal call, so the trace goes on from it
        intake, router = TracedIntake(intake, received), TracedRouter(router, updates)
    register_agents(
        app,
        intake=metrics.MeasuredIntake(intake, received),
        router=metrics.MeasuredRouter(router, updates),
        dead_letters=metrics.CountingDeadLetters(DeadLetterWriter(app)),
        settings=stream_settings,
        shipments=AuditShipments(settings.resolved_database_url),
        ledger=attach_ledger(app),
    )
    add_probes(app, settings, stream_settings, client, sdk_metrics_url)
    return app


def run_processor(settings: Settings) -> None:
    """Run in the foreground until SIGINT/SIGTERM (faust handles both and commits)."""
    install_tracer_provider(settings, "closeloop-stream")
    app = build_processor(settings)
    worker = faust.Worker(
        app,
        loglevel=settings.log_level.upper(),
        override_logging=False,
        redirect_stdouts=False,
        quiet=True,
    )
    worker.spinner = None  # a terminal spinner is noise in log files and pipes
    worker.execute_from_commandline()
