"""The activity the scheduled workflow runs: `trends.run.analyse` on the worker's audit log."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from audit.store import AuditLog
from base.settings import Settings
from trends.plan import PlanError, load_plan
from trends.run import Publishing, RunReceipt, analyse


class TrendRunRequest(BaseModel):
    """One run: its id (the workflow's, so a retried activity audits nothing twice) and time."""

    run_id: str
    now: datetime
    as_of: date | None = None


class TrendActivities:
    def __init__(self, audit_log: AuditLog, settings: Settings) -> None:
        self._audit_log = audit_log
        self._settings = settings

    @activity.defn(name="run_trend_analysis")
    def run_trend_analysis(self, request: TrendRunRequest) -> RunReceipt:
        settings = self._settings
        try:
            plan = load_plan(settings.monitoring_plan)
        except PlanError as exc:  # retrying will not mend the file: a person must
            raise ApplicationError(str(exc), type="PlanError", non_retryable=True) from None
        publishing = Publishing(
            settings.kafka_bootstrap if settings.trends_publish_signals else None
        )
        receipt = analyse(
            self._audit_log,
            plan,
            plan_source=str(settings.monitoring_plan or "built-in"),
            home=settings.home_dir,
            database_label=settings.resolved_database_url,
            run_id=request.run_id,
            as_of=request.as_of,
            now=request.now,
            publishing=publishing,
        )
        if publishing.error:  # audited already; the retry sends what is left
            raise ApplicationError(
                f"{len(publishing.left)} signal(s) audited but not published: {publishing.error}"
            )
        return receipt
