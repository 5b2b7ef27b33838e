"""Reports to regulators per market (21 CFR 803, EU MDR Art. 87): which are owed, their
clocks, their submissions, and what is still missing before the case may close.

A triage that names the markets (`markets`, `event_class`, `remedial_action`) gets a
`ReportingPlan` from the rules table version the case recorded when it started, and one
regulator deadline per owed report, keyed `MARKET:KIND`. A triage without markets keeps the
single severity-based regulator deadline of `intake._regulator_clock` (cases from before,
and callers that never name a market).
"""

from __future__ import annotations

from datetime import datetime

from schemas.complaint_state import (
    ComplaintState,
    Deadline,
    DeadlineResolution,
    RegulatoryReport,
    ReportingPlan,
    RequiredReport,
    Signed,
    report_key,
)
from schemas.decisions import DeadlineStage, RegulatoryReportInput, TriageInput
from schemas.markers import decision_ref as D
from schemas.markers import field_ref as F
from schemas.reporting_rules import table
from workflows.rules import Refused

STAGE = DeadlineStage.REGULATOR_REPORT


def per_market(state: ComplaintState, request: TriageInput) -> bool:
    return request.markets is not None or state.reporting is not None


def default_awareness(state: ComplaintState, request: TriageInput) -> datetime:
    """Awareness when triage gives none: receipt upstream for per-market clocks (both
    regulations count from when the manufacturer became aware, and the complaint reached it
    upstream); Closeloop's own receipt time for the severity clock, as it always was."""
    if not per_market(state, request):
        return state.received_at
    return min(state.complaint.occurred_at, state.received_at)


def check_triage(state: ComplaintState, request: TriageInput) -> None:
    if not per_market(state, request) or not request.reportable:
        return
    plan = state.reporting
    markets = request.markets if request.markets is not None else (plan.markets if plan else [])
    if not markets:
        raise Refused(f"a reportable complaint needs at least one {F('markets')}")
    if request.event_class is None and (plan is None or plan.event_class is None):
        raise Refused(
            f"a reportable complaint needs {F('event_class')} to know which reports are owed"
        )


def plan_reports(
    state: ComplaintState, request: TriageInput, aware_at: datetime, now: datetime
) -> str:
    """Record the plan and keep one deadline per owed report; returns what is owed."""
    triage, plan = state.triage, state.reporting
    assert triage is not None
    version = plan.rules_version if plan else table(state.reporting_rules).version
    markets = request.markets if request.markets is not None else (plan.markets if plan else [])
    event_class = request.event_class or (plan.event_class if plan else None)
    remedial = request.remedial_action
    if remedial is None:
        remedial = plan.remedial_action if plan else False
    rules = []
    if triage.reportable and event_class is not None:
        rules = table(version).required(list(markets), event_class, remedial)
    required = [
        RequiredReport(
            market=rule.market,
            kind=rule.kind,
            title=rule.title,
            regulator=rule.regulator,
            legal_basis=rule.legal_basis,
            clock=rule.clock,
            due_at=rule.due_at(aware_at),
        )
        for rule in rules
    ]
    state.reporting = ReportingPlan(
        rules_version=version,
        markets=list(markets),
        event_class=event_class,
        remedial_action=remedial,
        aware_at=aware_at,
        required=required,
    )
    _keep_clocks(state, required, aware_at, now)
    if not required:
        return "no report owed"
    return "reports owed: " + "; ".join(
        f"{r.label} by {r.due_at:%Y-%m-%d %H:%M} UTC ({r.clock})" for r in required
    )


def _keep_clocks(
    state: ComplaintState, required: list[RequiredReport], aware_at: datetime, now: datetime
) -> None:
    """Open a deadline per owed report not yet submitted; move one whose due date the new
    triage changed (never one moved by hand); cancel those no longer owed, and the severity
    deadline of an earlier triage without markets."""
    owed = {r.key: r for r in required if not submitted(state, r.key)}
    for deadline in state.deadlines:
        if deadline.active and deadline.stage is STAGE and deadline.report not in owed:
            deadline.resolved_at, deadline.resolution = now, DeadlineResolution.CANCELLED
    for key, report in owed.items():
        active = active_deadline(state, key)
        if active is None:
            state.deadlines.append(
                Deadline(
                    stage=STAGE,
                    report=key,
                    what=report.label,
                    loop=state.loop,
                    opened_at=aware_at,
                    due_at=report.due_at,
                )
            )
        elif active.due_at != report.due_at and not active.extensions:
            active.opened_at, active.due_at = aware_at, report.due_at
            if report.due_at > now:
                active.escalated_at = None


def active_deadline(state: ComplaintState, key: str) -> Deadline | None:
    return next(
        (d for d in state.deadlines if d.stage is STAGE and d.report == key and d.active), None
    )


def submitted(state: ComplaintState, key: str) -> bool:
    return any(
        r.market is not None and r.kind is not None and report_key(r.market, r.kind) == key
        for r in state.regulatory_reports
    )


def missing(state: ComplaintState) -> list[str]:
    """The owed reports not yet submitted, in words; for a case without a per-market plan,
    the one report to the regulator its triage found necessary."""
    plan = state.reporting
    if plan is None:
        reportable = state.reportable and not state.regulatory_reports
        return ["report to the regulator"] if reportable else []
    return [r.label for r in plan.required if not submitted(state, r.key)]


def close_needs(state: ComplaintState) -> str | None:
    owed = missing(state)
    if not owed:
        return None
    if state.reporting is None:
        return f"the report to the regulator ({D('record_regulatory_report')})"
    return (
        f"the {' and the '.join(owed)} ({D('record_regulatory_report')} with its "
        f"{F('market')} and {F('reference')})"
    )


def owed_for(state: ComplaintState, request: RegulatoryReportInput) -> RequiredReport:
    """The owed report a submission names: by market, and by kind when given."""
    plan = state.reporting
    assert plan is not None
    owed = ", ".join(f"{r.market} {r.kind}" for r in plan.required) or "none"
    if request.market is None:
        raise Refused(f"name the report's {F('market')} (reports owed: {owed})")
    candidates = [r for r in plan.required if r.market is request.market]
    if request.kind is not None:
        candidates = [r for r in candidates if r.kind is request.kind]
    if not candidates:
        asked = f"{request.market} {request.kind}" if request.kind else str(request.market)
        raise Refused(
            f"no report is owed for {asked} ({F('market')}, {F('kind')}); reports owed: {owed}"
        )
    return candidates[0]


def check_report(state: ComplaintState, request: RegulatoryReportInput) -> None:
    if state.reporting is None:
        if request.regulator is None:
            raise Refused(f"name the {F('regulator')} the report went to")
        return
    owed_for(state, request)


def apply_report(state: ComplaintState, request: RegulatoryReportInput, signed: Signed) -> str:
    """Record a submission against its owed report and stop that report's clock."""
    report = owed_for(state, request)
    regulator = request.regulator or report.regulator
    state.regulatory_reports.append(
        RegulatoryReport(
            **dict(signed),
            regulator=regulator,
            reference=request.reference,
            submitted_at=request.submitted_at if request.submitted_at is not None else signed.at,
            market=report.market,
            kind=report.kind,
        )
    )
    deadline = active_deadline(state, report.key)
    if deadline is not None:
        deadline.resolved_at, deadline.resolution = signed.at, DeadlineResolution.MET
    still = missing(state)
    rest = f"; still owed: {', '.join(still)}" if still else "; no report still owed"
    return f"{report.label} submitted to {regulator} (reference {request.reference}){rest}"
