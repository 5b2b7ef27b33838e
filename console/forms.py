"""One form per decision, built from the decision's own input model.

A form names the fields a person fills in; the signer (`actor`), the state hash they saw
and the update id are never form fields a person controls: the signer comes from the
session, the state hash from the page that showed the state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError

from schemas.decisions import (
    AcknowledgeInput,
    ActionProgressInput,
    Actor,
    AddInformationInput,
    CapaKind,
    CloseInput,
    CompleteActionInput,
    DeadlineStage,
    Decision,
    DeclineInvestigationInput,
    ExtendInput,
    InvestigateInput,
    InvestigationMethod,
    LinkRelatedInput,
    PlanCapaInput,
    RecordSurveyInput,
    RegulatoryReportInput,
    RejectInput,
    RejectReason,
    ReopenInput,
    ReopenReason,
    RequestInformationInput,
    Severity,
    TriageInput,
    VerifyInput,
)
from schemas.events import Channel
from schemas.outcomes import render
from schemas.reporting_rules import EventClass, Market, ReportKind


@dataclass(frozen=True)
class Field:
    name: str  # the input model's field; "action.x" is a field of the one CAPA action
    label: str
    kind: str = "text"  # text | textarea | lines | bool | choice | date | int
    choices: tuple[str, ...] = ()
    default: str = ""
    optional: bool = False


@dataclass(frozen=True)
class DecisionForm:
    decision: Decision
    title: str
    model: type[BaseModel]
    fields: tuple[Field, ...] = field(default_factory=tuple)


def _choices(enum: type[StrEnum]) -> tuple[str, ...]:
    return tuple(member.value for member in enum)


FORMS: dict[Decision, DecisionForm] = {
    form.decision: form
    for form in (
        DecisionForm(
            Decision.ACKNOWLEDGE, "Acknowledge", AcknowledgeInput,
            (Field("channel", "Channel", "choice", _choices(Channel), optional=True),
             Field("message", "Message to the customer", "textarea", optional=True)),
        ),
        DecisionForm(
            Decision.TRIAGE, "Triage", TriageInput,
            (Field("severity", "Severity", "choice", _choices(Severity)),
             Field("category", "Category"),
             Field("risk_rationale", "Risk rationale", "textarea"),
             Field("assignee", "Assignee (user name)"),
             Field("reportable", "Reportable to a regulator", "bool"),
             Field("reportable_justification", "Why it is, or is not, reportable", "textarea"),
             Field("regulator", "Regulator", optional=True),
             Field("markets", "Markets for the reporting rules (one per line: US, EU)", "lines",
                   optional=True),
             Field("event_class", "Event class", "choice", _choices(EventClass), optional=True),
             Field("remedial_action", "Remedial action needed (US 5-day report)", "bool",
                   optional=True)),
        ),
        DecisionForm(
            Decision.INVESTIGATE, "Investigate", InvestigateInput,
            (Field("method", "Method", "choice", _choices(InvestigationMethod)),
             Field("method_detail", "Method detail", optional=True),
             Field("root_causes", "Root causes (one per line)", "lines"),
             Field("contributing_factors", "Contributing factors (one per line)", "lines",
                   optional=True),
             Field("evidence", "Evidence references (one per line)", "lines", optional=True),
             Field("final", "Final finding", "bool", default="1"),
             Field("capa_needed", "CAPA needed", "bool", default="1")),
        ),
        DecisionForm(
            Decision.PLAN_CAPA, "Plan a CAPA action", PlanCapaInput,
            (Field("action.id", "Action id"),
             Field("action.description", "Description", "textarea"),
             Field("action.kind", "Kind", "choice", _choices(CapaKind)),
             Field("action.owner", "Owner (user name)"),
             Field("action.due_at", "Due date (UTC)", "date")),
        ),
        DecisionForm(
            Decision.COMPLETE_ACTION, "Complete a CAPA action", CompleteActionInput,
            (Field("action_id", "Action id"),
             Field("evidence", "Evidence references (one per line)", "lines"),
             Field("summary", "Summary", "textarea", optional=True)),
        ),
        DecisionForm(
            Decision.VERIFY, "Verify effectiveness", VerifyInput,
            (Field("effective", "The actions were effective", "bool"),
             Field("evidence", "Evidence references (one per line)", "lines"),
             Field("override_wait_reason", "Verify before the planned wait, because",
                   optional=True)),
        ),
        DecisionForm(
            Decision.CLOSE, "Close", CloseInput,
            (Field("customer_response", "Response sent to the customer", "textarea"),
             Field("response_channel", "Response channel", "choice", _choices(Channel),
                   optional=True)),
        ),
        DecisionForm(
            Decision.REJECT, "Reject", RejectInput,
            (Field("reason", "Reason", "choice", _choices(RejectReason)),
             Field("explanation", "Explanation", "textarea"),
             Field("duplicate_of", "Duplicate of (complaint id)", optional=True),
             Field("customer_response", "Told to the customer (else a standard text)",
                   "textarea", optional=True)),
        ),
        DecisionForm(
            Decision.DECLINE_INVESTIGATION, "Decline to investigate", DeclineInvestigationInput,
            (Field("reason", "Why no investigation is needed", "textarea"),),
        ),
        DecisionForm(
            Decision.RECORD_ACTION_PROGRESS, "Record action progress", ActionProgressInput,
            (Field("action_id", "Action id"),
             Field("note", "Progress note", "textarea"),
             Field("percent_complete", "Percent complete (0-100)", "int", optional=True),
             Field("evidence", "Evidence references (one per line)", "lines", optional=True)),
        ),
        DecisionForm(
            Decision.EXTEND, "Extend a due date", ExtendInput,
            (Field("action_id", "Action id (or a stage below)", optional=True),
             Field("stage", "Stage deadline", "choice", _choices(DeadlineStage), optional=True),
             Field("new_due_at", "New due date (UTC)", "date"),
             Field("reason", "Reason", "textarea")),
        ),
        DecisionForm(
            Decision.REOPEN, "Reopen", ReopenInput,
            (Field("reason", "Reason", "choice", _choices(ReopenReason)),
             Field("explanation", "Explanation", "textarea")),
        ),
        DecisionForm(
            Decision.ADD_INFORMATION, "Add information", AddInformationInput,
            (Field("information", "Information", "textarea"),
             Field("attachments", "Attachment references (one per line)", "lines",
                   optional=True),
             Field("source", "Source", default="customer")),
        ),
        DecisionForm(
            Decision.RECORD_SURVEY, "Record a survey response", RecordSurveyInput,
            (Field("csat", "CSAT (1-5)", "int", optional=True),
             Field("nps", "NPS (0-10)", "int", optional=True),
             Field("verbatim", "Verbatim", "textarea", optional=True)),
        ),
        DecisionForm(
            Decision.RECORD_REGULATORY_REPORT, "Record the report to the regulator",
            RegulatoryReportInput,
            (Field("market", "Market", "choice", _choices(Market), optional=True),
             Field("kind", "Report kind", "choice", _choices(ReportKind), optional=True),
             Field("regulator", "Regulator", optional=True),
             Field("reference", "Report reference"),
             Field("submitted_at", "Submitted on (UTC)", "date", optional=True)),
        ),
        DecisionForm(
            Decision.REQUEST_INFORMATION, "Ask the complainant", RequestInformationInput,
            (Field("question", "Question to the complainant", "textarea"),),
        ),
        DecisionForm(
            Decision.LINK_RELATED, "Link a related complaint", LinkRelatedInput,
            (Field("related_to", "Related complaint (id)"),
             Field("explanation", "Why they are related", "textarea")),
        ),
    )
}  # fmt: skip


class FormErrors(ValueError):
    """Field label -> message, shown on the form next to the field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def build_input(
    form: DecisionForm,
    values: dict[str, str],
    *,
    actor: Actor,
    expected_state_hash: str,
    comment: str,
) -> BaseModel:
    """The decision's input model from the submitted values, or FormErrors naming fields."""
    errors: dict[str, str] = {}
    data: dict[str, Any] = {}
    action: dict[str, Any] = {}
    for spec in form.fields:
        raw = values.get(spec.name, "")
        try:
            value = _convert(spec, raw)
        except ValueError as error:
            errors[spec.name] = str(error)
            continue
        if value is None:
            continue
        if spec.name.startswith("action."):
            action[spec.name.removeprefix("action.")] = value
        else:
            data[spec.name] = value
    if action:
        data["actions"] = [action]
    if errors:
        raise FormErrors(errors)
    try:
        return form.model.model_validate(
            {**data, "actor": actor, "comment": comment, "expected_state_hash": expected_state_hash}
        )
    except ValidationError as invalid:
        raise FormErrors(_field_errors(form, invalid)) from None


def _convert(spec: Field, raw: str) -> Any:
    raw = raw.strip()
    if spec.kind == "bool":
        return raw in ("1", "on", "true")
    if not raw:
        if spec.optional:
            return None
        raise ValueError("required")
    if spec.kind == "lines":
        return [line.strip() for line in raw.splitlines() if line.strip()]
    if spec.kind == "choice" and raw not in spec.choices:
        raise ValueError("choose one of " + ", ".join(spec.choices))
    if spec.kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise ValueError("a whole number") from None
    if spec.kind == "date":
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise ValueError("a date as YYYY-MM-DD") from None
        return datetime.combine(day, time(23, 59, 59), tzinfo=UTC)
    return raw


def _field_errors(form: DecisionForm, invalid: ValidationError) -> dict[str, str]:
    names = {spec.name for spec in form.fields}
    labels = {spec.name.removeprefix("action."): spec.label for spec in form.fields}
    errors: dict[str, str] = {}
    for error in invalid.errors():
        location = [str(part) for part in error["loc"]]
        if location[:1] == ["actions"] and len(location) >= 3:
            name = f"action.{location[2]}"
        else:
            name = location[0] if location else ""
        message = render(
            str(error["msg"]).removeprefix("Value error, "),
            field=lambda n: labels.get(n, n.replace("_", " ")),
            decision=lambda n: n.replace("_", " "),
        )
        errors[name if name in names else "form"] = message
    return errors
