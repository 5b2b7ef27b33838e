"""Receipt to triage: acknowledge, triage, reject, and the facts that may arrive any time."""

from __future__ import annotations

from datetime import datetime

from schemas.complaint_state import (
    Acknowledgment,
    ComplaintState,
    ComplaintStatus,
    InformationRecord,
    RegulatoryReport,
    RejectionRecord,
    Signed,
    SurveyRecord,
    TriageRecord,
)
from schemas.decisions import (
    AcknowledgeInput,
    AddInformationInput,
    DeadlineStage,
    RecordSurveyInput,
    RegulatoryReportInput,
    RejectInput,
    TriageInput,
)
from schemas.markers import decision_ref as D
from schemas.markers import field_ref as F
from workflows import deadlines
from workflows.rules import Logic, Refused, reporting


def apply_acknowledge(state: ComplaintState, request: AcknowledgeInput, signed: Signed) -> str:
    channel = request.channel if request.channel is not None else state.complaint.channel
    state.acknowledgment = Acknowledgment(**dict(signed), channel=channel, message=request.message)
    state.acknowledged_at = signed.at
    state.status = ComplaintStatus.ACKNOWLEDGED
    deadlines.meet(state, DeadlineStage.ACKNOWLEDGE, at=signed.at)
    return f"Acknowledgment sent to the customer via {channel}"


def check_triage(state: ComplaintState, request: TriageInput, now: datetime) -> None:
    if request.aware_at is not None and request.aware_at > now:
        raise Refused(f"{F('aware_at')} {request.aware_at.isoformat()} is in the future")
    reporting.check_triage(state, request)


def apply_triage(state: ComplaintState, request: TriageInput, signed: Signed) -> str:
    previous = state.triage
    aware_at = request.aware_at
    if aware_at is None:
        aware_at = previous.aware_at if previous else reporting.default_awareness(state, request)
    state.triage = TriageRecord(
        **dict(signed),
        **request.model_dump(
            include={
                "severity",
                "category",
                "risk_rationale",
                "assignee",
                "reportable",
                "reportable_justification",
                "regulator",
            }
        ),
        aware_at=aware_at,
    )
    policy, severity, now = state.policy, request.severity, signed.at
    if state.status is ComplaintStatus.ACKNOWLEDGED:
        state.status = ComplaintStatus.TRIAGED
    if previous is None:
        deadlines.meet(state, DeadlineStage.TRIAGE, at=now)
        deadlines.open_deadline(
            state,
            DeadlineStage.INVESTIGATION,
            clock_start=now,
            due_at=now + policy.investigation.for_severity(severity),
        )
        deadlines.open_deadline(
            state,
            DeadlineStage.CLOSURE,
            clock_start=state.received_at,
            due_at=state.received_at + policy.closure.for_severity(severity),
        )
    else:
        deadlines.reschedule_for_severity(state, severity, now=now)
    owed = ""
    if reporting.per_market(state, request):
        owed = "; " + reporting.plan_reports(state, request, aware_at, now)
    else:
        _regulator_clock(state, aware_at, now)
    verb = "Triaged" if previous is None else "Re-triaged"
    reportable = "reportable" if request.reportable else "not reportable"
    return (
        f"{verb}: {severity} {request.category}, assigned to {request.assignee}, {reportable}{owed}"
    )


def _regulator_clock(state: ComplaintState, aware_at: datetime, now: datetime) -> None:
    """The regulator's clock runs from awareness; it stops only when the report is filed."""
    triage = state.triage
    assert triage is not None
    active = state.active_deadline(DeadlineStage.REGULATOR_REPORT)
    if not triage.reportable:
        deadlines.cancel(state, DeadlineStage.REGULATOR_REPORT, at=now)
        return
    if state.regulatory_reports:
        return
    due_at = aware_at + state.policy.regulator_report.for_severity(triage.severity)
    if active is None:
        deadlines.open_deadline(
            state, DeadlineStage.REGULATOR_REPORT, clock_start=aware_at, due_at=due_at
        )
    elif not active.extensions:
        active.opened_at, active.due_at = aware_at, due_at
        if due_at > now:
            active.escalated_at = None


def check_reject(state: ComplaintState, request: RejectInput, now: datetime) -> None:
    if request.duplicate_of == state.complaint_id:
        raise Refused(f"a complaint cannot be a duplicate of itself ({F('duplicate_of')})")


def apply_reject(state: ComplaintState, request: RejectInput, signed: Signed) -> str:
    state.rejection = RejectionRecord(
        **dict(signed),
        reason=request.reason,
        explanation=request.explanation,
        duplicate_of=request.duplicate_of,
        customer_response=request.customer_response,
    )
    state.status = ComplaintStatus.REJECTED
    deadlines.cancel_all(state, at=signed.at)
    if request.duplicate_of:
        return f"Rejected as a duplicate of {request.duplicate_of}: {request.explanation}"
    return f"Rejected, not a complaint: {request.explanation}"


def apply_add_information(
    state: ComplaintState, request: AddInformationInput, signed: Signed
) -> str:
    state.information.append(
        InformationRecord(
            **dict(signed),
            information=request.information,
            attachments=list(request.attachments),
            source=request.source,
        )
    )
    return f"Information added ({request.source}): {request.information[:120]}"


def apply_survey(state: ComplaintState, request: RecordSurveyInput, signed: Signed) -> str:
    state.surveys.append(
        SurveyRecord(
            **dict(signed),
            csat=request.csat,
            nps=request.nps,
            verbatim=request.verbatim,
            survey_id=request.survey_id,
        )
    )
    scores = [f"CSAT {request.csat}/5"] if request.csat is not None else []
    scores += [f"NPS {request.nps}/10"] if request.nps is not None else []
    return "Customer survey: " + ", ".join(scores)


def reportable_ready(state: ComplaintState, now: datetime) -> str | None:
    return None if state.reportable else f"a {D('triage')} that found the complaint reportable"


def check_regulatory_report(
    state: ComplaintState, request: RegulatoryReportInput, now: datetime
) -> None:
    if request.submitted_at is not None and request.submitted_at > now:
        raise Refused(f"{F('submitted_at')} {request.submitted_at.isoformat()} is in the future")
    reporting.check_report(state, request)


def apply_regulatory_report(
    state: ComplaintState, request: RegulatoryReportInput, signed: Signed
) -> str:
    if state.reporting is not None:
        return reporting.apply_report(state, request, signed)
    assert request.regulator is not None  # checked: a case without a plan names it
    state.regulatory_reports.append(
        RegulatoryReport(
            **dict(signed),
            regulator=request.regulator,
            reference=request.reference,
            submitted_at=request.submitted_at if request.submitted_at is not None else signed.at,
        )
    )
    deadlines.meet(state, DeadlineStage.REGULATOR_REPORT, at=signed.at)
    return f"Reported to {request.regulator} (reference {request.reference})"


ACKNOWLEDGE = Logic(apply=apply_acknowledge)
TRIAGE = Logic(apply=apply_triage, check=check_triage)
REJECT = Logic(apply=apply_reject, check=check_reject)
ADD_INFORMATION = Logic(apply=apply_add_information)
RECORD_SURVEY = Logic(apply=apply_survey)
RECORD_REGULATORY_REPORT = Logic(
    apply=apply_regulatory_report, check=check_regulatory_report, ready=reportable_ready
)
