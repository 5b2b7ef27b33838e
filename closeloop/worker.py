"""The Temporal worker process: runs complaint and improvement workflows, their CAPA
children and their activities."""

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
from activities.customer_messages import MessageActivities
from activities.policy import PolicyActivities
from activities.similarity import SimilarityActivities
from activities.status import StatusPublisher
from audit.similarity_index import SimilarityTable
from audit.store import AuditLog
from base.health import Health, metrics_runtime, start_health_server, temporal_check
from base.settings import Settings, load_settings
from base.temporal import connect, ensure_search_attributes
from base.tracing import install_tracer_provider
from closeloop.checkpointing import export_freshness, run_for_worker
from closeloop.sandbox import workflow_runner
from kpi.measure import KpiActivities
from trends.activity import TrendActivities
from trends.schedule import ensure_schedule
from trends.workflow import TrendAnalysisWorkflow
from workflows.capa import CapaActionWorkflow
from workflows.complaint import ComplaintWorkflow
from workflows.improvement import ImprovementWorkflow

log = structlog.get_logger(__name__)

WORKFLOWS = [ComplaintWorkflow, CapaActionWorkflow, ImprovementWorkflow, TrendAnalysisWorkflow]


def build_activities(
    audit_log: AuditLog, settings: Settings | None = None
) -> list[Callable[..., Any]]:
    """Every activity the workflows call, bound to their resources."""
    settings = settings or load_settings()
    audit = AuditActivities(audit_log)
    status = StatusPublisher(settings.kafka_bootstrap)
    policy = PolicyActivities(settings.deadlines, settings.improvement_deadlines)
    kpi = KpiActivities(audit_log, settings.home_dir)
    trends = TrendActivities(audit_log, settings)
    messages = MessageActivities(settings.messages, settings.kafka_bootstrap)
    similar = SimilarityActivities(SimilarityTable(audit_log.engine))
    return [
        audit.record_audit_entry,
        status.publish_status_event,
        policy.load_deadline_policy,
        policy.load_improvement_policy,
        kpi.measure_kpi_figure,
        trends.run_trend_analysis,
        messages.load_message_policy,
        messages.render_customer_message,
        messages.new_survey_code,
        messages.publish_customer_message,
        similar.find_similar_complaints,
    ]


async def run_worker(settings: Settings) -> None:
    """Run until SIGINT or SIGTERM, then finish in-flight tasks and exit."""
    install_tracer_provider(settings, "closeloop-worker")
    health, runtime, probes = Health(), None, None
    if settings.worker_metrics_port:
        runtime, sdk_metrics = metrics_runtime()
        probes = await start_health_server(settings.worker_metrics_port, health, sdk_metrics)
    client = await connect(settings, budget_s=120, runtime=runtime)
    await ensure_search_attributes(client, settings.temporal_namespace)
    # The daily trend analysis (trends/schedule.py): idempotent, like the search attributes.
    schedule = await ensure_schedule(
        client, cron=settings.trends_schedule, task_queue=settings.task_queue
    )
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
            workflow_runner=workflow_runner(WORKFLOWS),
            activities=build_activities(audit_log, settings),
            activity_executor=executor,
            max_concurrent_workflow_tasks=settings.worker_workflow_tasks,
        )
        log.info(
            "worker started",
            temporal=settings.temporal_address,
            task_queue=settings.task_queue,
            trends_schedule=schedule,
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
