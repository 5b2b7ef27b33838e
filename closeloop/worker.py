"""The Temporal worker process: runs complaint workflows and their activities."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import structlog
from temporalio.client import Client
from temporalio.worker import Worker

from activities.audit import AuditActivities
from activities.policy import PolicyActivities
from activities.status import StatusPublisher
from audit.store import AuditLog
from base.health import Health, metrics_runtime, start_health_server, temporal_check
from base.settings import Settings, load_settings
from base.temporal import connect, ensure_search_attributes
from base.tracing import install_tracer_provider
from closeloop.checkpointing import export_freshness, run_for_worker
from workflows.capa import CapaActionWorkflow
from workflows.complaint import ComplaintWorkflow

log = structlog.get_logger(__name__)

WORKFLOWS = [ComplaintWorkflow, CapaActionWorkflow]


def build_activities(
    audit_log: AuditLog, settings: Settings | None = None
) -> list[Callable[..., Any]]:
    """Every activity the workflows call, bound to their resources."""
    settings = settings or load_settings()
    audit = AuditActivities(audit_log)
    status = StatusPublisher(settings.kafka_bootstrap)
    policy = PolicyActivities(settings.deadlines)
    return [audit.record_audit_entry, status.publish_status_event, policy.load_deadline_policy]


async def run_worker(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then finish in-flight tasks and exit."""
    install_tracer_provider(settings, "closeloop-worker")
    health, runtime, probes = Health(), None, None
    if settings.worker_metrics_port:
        runtime, sdk_metrics = metrics_runtime()
        probes = await start_health_server(settings.worker_metrics_port, health, sdk_metrics)
    client = await connect(settings, budget_s=120, runtime=runtime)
    await ensure_search_attributes(client, settings.temporal_namespace)
    audit_log = AuditLog.from_url(settings.resolved_database_url)

    async def connected() -> Client:
        return client

    async def database() -> str | None:
        try:
            await asyncio.wait_for(asyncio.to_thread(audit_log.count), timeout=5)
        except Exception:
            return "the audit database did not answer"
        return None

    health.checks = [temporal_check(connected), database]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with ThreadPoolExecutor(max_workers=16, thread_name_prefix="activity") as executor:
        worker = Worker(
            client,
            task_queue=settings.task_queue,
            workflows=WORKFLOWS,
            activities=build_activities(audit_log, settings),
            activity_executor=executor,
        )
        log.info(
            "worker started",
            temporal=settings.temporal_address,
            task_queue=settings.task_queue,
            database=audit_log.engine.url.render_as_string(hide_password=True),
        )
        async with worker:
            health.ready = True
            # Signed audit checkpoints beside the worker; on stop it signs what is left.
            checkpoints = asyncio.create_task(run_for_worker(audit_log, settings, stop))
            gauges = asyncio.create_task(export_freshness(audit_log, stop))
            await stop.wait()
            health.ready = False
            await checkpoints
            await gauges
        log.info("worker stopped")
    if probes:
        await probes.cleanup()
