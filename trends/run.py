"""One analysis run: the plan in force, the figures as of now, signals audited and sent.

The scheduled workflow's activity and `closeloop trends run` both call `analyse`, so a run
on demand is the same computation, audited the same way, as the daily one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import structlog
from pydantic import BaseModel, Field

from audit.store import AuditLog
from kpi import service
from schemas.improvement import OpenImprovement
from schemas.quality_signal import QualitySignal, Way
from trends import improvements, records
from trends.analysis import Finding, evaluate
from trends.periods import complete_periods, day_of
from trends.plan import MonitoringPlan
from trends.publish import SignalPublisher
from trends.series import Source, series

log = structlog.get_logger(__name__)


class RunReceipt(BaseModel):
    """What a run did: small, so it fits in a workflow history."""

    run_id: str
    run_seq: int
    plan_hash: str
    plan_seq: int
    window_start: str
    window_end: str
    signals: list[str] = Field(default_factory=list)
    new_signals: list[str] = Field(default_factory=list)
    published: int = 0
    unpublished: int = 0  # still waiting for the broker (0 unless publishing failed)
    # New signals of rules with `open_improvement`: what the workflow (or the CLI) opens.
    improvements: list[OpenImprovement] = Field(default_factory=list)
    improvements_opened: list[str] = Field(default_factory=list)  # started by this run
    improvements_existing: list[str] = Field(default_factory=list)  # opened before


@dataclass
class Publishing:
    """Where to send signals; None: record them only (CLOSELOOP_TRENDS_PUBLISH_SIGNALS=false)."""

    bootstrap: str | None
    error: str | None = None
    sent: int = 0
    left: list[str] = field(default_factory=list)


def analyse(
    audit_log: AuditLog,
    plan: MonitoringPlan,
    *,
    plan_source: str,
    home: Path,
    database_label: str,
    run_id: str,
    as_of: date | None = None,
    now: datetime | None = None,
    publishing: Publishing | None = None,
) -> RunReceipt:
    now = now or datetime.now(UTC)
    as_of = as_of or now.date()
    plan_entry = records.record_plan(audit_log, plan, plan_source, now)
    ledger, _checkpoint = service.from_log(audit_log, home, label=database_label)
    longest = max(rule.periods_needed for rule in plan.rules)
    periods = complete_periods(plan.period, as_of, longest)
    source = Source(ledger.all_facts())  # every complaint, not only the touched ones
    outcomes: dict[str, Any] = {}
    findings: list[Finding] = []
    for rule in plan.rules:
        found, outcome = evaluate(rule, series(source, rule, periods[-rule.periods_needed :]))
        findings.extend(found)
        outcomes[rule.name] = {
            "method": rule.method,
            "groups": outcome.groups,
            "signals": outcome.signals,
            "skipped": outcome.skipped,
        }
    as_of_root = ledger.root_hex()
    made = [
        _signal(f, run_id=run_id, now=now, plan=plan, size=ledger.size, root=as_of_root)
        for f in findings
    ]
    new: list[str] = []
    seqs: dict[str, int] = {}
    for signal in made:
        entry, fresh = records.record_signal(audit_log, signal)
        seqs[signal.signal_id] = entry.seq
        if fresh:
            new.append(signal.signal_id)
    openings = _openings(audit_log, plan, [s for s in made if s.signal_id in new])
    window = (day_of(periods[0].start), day_of(periods[-1].end))
    data = {
        "run_id": run_id,
        "as_of": as_of.isoformat(),
        "window_start": window[0],
        "window_end": window[1],
        "period": plan.period,
        "plan_hash": plan.content_hash,
        "plan_version": plan.version,
        "plan_seq": plan_entry.seq,
        "tree_size": ledger.size,
        "root_hash": as_of_root,
        "rules": outcomes,
        "signals": [s.signal_id for s in made],
        "new_signals": new,
        "signal_seqs": seqs,
        "improvements": [improvements.link(opened) for opened in openings],
    }
    run_entry = records.record_run(audit_log, run_id, now, data)
    publishing = publishing or Publishing(None)
    if publishing.bootstrap:
        _publish(audit_log, publishing, now)
    log.info(
        "trend analysis run", run_id=run_id, signals=len(made), new=len(new), seq=run_entry.seq
    )
    return RunReceipt(
        run_id=run_id,
        run_seq=run_entry.seq,
        plan_hash=plan.content_hash,
        plan_seq=plan_entry.seq,
        window_start=window[0],
        window_end=window[1],
        signals=[s.signal_id for s in made],
        new_signals=new,
        published=publishing.sent,
        unpublished=len(publishing.left),
        improvements=openings,
    )


def _openings(
    audit_log: AuditLog, plan: MonitoringPlan, new: list[QualitySignal]
) -> list[OpenImprovement]:
    """The improvements the new signals of rules with `open_improvement` call for."""
    asking = [s for s in new if plan.rule(s.rule).open_improvement is not None]
    if not asking:
        return []
    known = [s for _, s in records.signals(audit_log)]
    starts = improvements.excursion_starts(asking, known)
    return [
        opened
        for signal in starts
        if (opened := improvements.to_open(signal, plan.rule(signal.rule), plan)) is not None
    ]


def _publish(audit_log: AuditLog, publishing: Publishing, now: datetime) -> None:
    """Send every audited signal not yet recorded as sent (this run's and earlier ones')."""
    sent = records.published_ids(audit_log)
    waiting = [s for _, s in records.signals(audit_log) if s.signal_id not in sent]
    publisher = SignalPublisher(str(publishing.bootstrap))

    def done(signal: QualitySignal, where: dict[str, object]) -> None:
        records.record_published(audit_log, signal.signal_id, now, where)
        publishing.sent += 1

    try:
        publisher.publish(waiting, done)
    except Exception as exc:  # the broker: recorded signals wait for the next run
        publishing.error = f"{type(exc).__name__}: {exc}"
        publishing.left = [s.signal_id for s in waiting[publishing.sent :]]


def _signal(
    f: Finding, *, run_id: str, now: datetime, plan: MonitoringPlan, size: int, root: str
) -> QualitySignal:
    first, last, count = f.baseline
    return QualitySignal(
        signal_id=f.signal_id,
        detected_at=now,
        run_id=run_id,
        rule=f.rule,
        method=f.method,
        test=f.test,
        direction=Way.UP if f.up else Way.DOWN,
        metric=f.metric,
        group=f.group,
        period=f.point.period.label,
        period_start=day_of(f.point.period.start),
        period_end=day_of(f.point.period.end),
        value=round(f.point.value or 0.0, 6),
        centre=f.centre,
        lower=f.lower,
        upper=f.upper,
        p_value=f.p_value,
        statistic=f.statistic,
        limit=f.limit,
        baseline_from=first.label,
        baseline_to=last.label,
        baseline_periods=count,
        plan_version=plan.version,
        plan_hash=plan.content_hash,
        as_of_tree_size=size,
        as_of_root_hash=root,
        summary=summary(f),
    )


TESTS = {
    "beyond_limits": "outside the control limits",
    "nine_one_side": "9th period in a row on one side of the centre line",
    "six_trend": "6th period in a row steadily moving",
    "poisson_exact": "more events than the baseline rate explains",
    "ewma": "EWMA crossed its limit",
    "cusum": "CUSUM crossed its decision interval",
}


def summary(f: Finding) -> str:
    group = ", ".join(f"{k}={v}" for k, v in f.group.items()) or "all complaints"
    way = "up" if f.up else "down"
    extra = ""
    if f.upper is not None and f.lower is not None:
        extra = f" (centre {f.centre:g}, limits {f.lower:g} to {f.upper:g})"
    elif f.p_value is not None:
        extra = f" (expected {f.centre:g} a period, p = {f.p_value:.2g} < {f.limit:g})"
    elif f.statistic is not None:
        extra = f" (target {f.centre:g}, statistic {f.statistic:.3g} beyond {f.limit:.3g})"
    value = f.point.value or 0.0
    return (
        f"{f.metric} for {group} in {f.point.period.label} went {way}: {value:g}, "
        f"{TESTS[f.test]}{extra} [{f.method}, rule {f.rule}]"
    )[:1000]
