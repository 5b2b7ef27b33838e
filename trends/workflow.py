"""The daily trend analysis as a workflow, so Temporal's Schedule owns the cadence.

The workflow only fixes the run's id and time and calls the activity: the analysis reads
the audit log, which no workflow may do. Retried with backoff while the database or the
broker is away; a broken plan is not retried (a person must mend it).
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from trends.activity import TrendRunRequest
    from trends.run import RunReceipt

RUN_TIMEOUT = timedelta(hours=2)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=["PlanError"],
)


@workflow.defn(name="TrendAnalysisWorkflow")
class TrendAnalysisWorkflow:
    @workflow.run
    async def run(self) -> RunReceipt:
        request = TrendRunRequest(run_id=workflow.info().workflow_id, now=workflow.now())
        return await workflow.execute_activity(
            "run_trend_analysis",
            request,
            result_type=RunReceipt,
            start_to_close_timeout=timedelta(minutes=30),
            schedule_to_close_timeout=RUN_TIMEOUT,
            retry_policy=RETRY,
        )
