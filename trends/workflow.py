"""The daily trend analysis as a workflow, so Temporal's Schedule owns the cadence.

The workflow only fixes the run's id and time and calls the activity: the analysis reads
the audit log, which no workflow may do. Retried with backoff while the database or the
broker is away; a broken plan is not retried (a person must mend it).

Then it opens the improvements the activity says the new signals call for (rules with
`open_improvement`), each as a child `ImprovementWorkflow` started by name and abandoned
to live on after this run ends. The list is the activity's result, kept in this history, so
a worker that dies half way starts the rest on replay; the improvement's id is derived from
the signal's, so a second start is refused by Temporal and counts as already opened.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from base.improvements import opening_search_attributes, opening_summary
    from schemas.improvement import IMPROVEMENT_WORKFLOW, OpenImprovement, improvement_workflow_id
    from trends.activity import TrendRunRequest
    from trends.run import RunReceipt

RUN_TIMEOUT = timedelta(hours=2)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=["PlanError"],
)
# Runs recorded before signals could open improvements never started a child workflow.
OPEN_IMPROVEMENTS_PATCH = "trends-open-improvements"


@workflow.defn(name="TrendAnalysisWorkflow")
class TrendAnalysisWorkflow:
    @workflow.run
    async def run(self) -> RunReceipt:
        request = TrendRunRequest(run_id=workflow.info().workflow_id, now=workflow.now())
        receipt = await workflow.execute_activity(
            "run_trend_analysis",
            request,
            result_type=RunReceipt,
            start_to_close_timeout=timedelta(minutes=30),
            schedule_to_close_timeout=RUN_TIMEOUT,
            retry_policy=RETRY,
        )
        if receipt.improvements and workflow.patched(OPEN_IMPROVEMENTS_PATCH):
            for opened in receipt.improvements:
                if await self._open(opened):
                    receipt.improvements_opened.append(opened.improvement_id)
                else:
                    receipt.improvements_existing.append(opened.improvement_id)
        return receipt

    async def _open(self, opened: OpenImprovement) -> bool:
        """Start the improvement; False when it was opened before (by a rerun or the CLI)."""
        try:
            await workflow.start_child_workflow(
                IMPROVEMENT_WORKFLOW,
                opened,
                id=improvement_workflow_id(opened.improvement_id),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                search_attributes=opening_search_attributes(opened),
                static_summary=opening_summary(opened),
            )
        except WorkflowAlreadyStartedError:
            return False
        return True
