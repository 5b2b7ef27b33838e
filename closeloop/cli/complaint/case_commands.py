"""The decisions about the case itself: acknowledge, triage, investigate, close, reject,
reopen, add information, record the regulator's report and a customer survey.

CAPA decisions (plan, progress, complete, extend, verify) are in `capa_commands`.
"""

from __future__ import annotations

from datetime import datetime

import click

from closeloop.cli.complaint.decisions import Common, decision_command, require, send
from closeloop.cli.options import Day, When, choice_of
from schemas import decisions as d
from schemas.events import Channel
from schemas.reporting_rules import EventClass, Market, ReportKind

CHANNEL = choice_of(Channel)


@decision_command(d.Decision.ACKNOWLEDGE, "ack")
@click.option("--channel", type=CHANNEL, help="How the acknowledgment was sent.")
@click.option("--message", default="", help="The acknowledgment, or a reference to it.")
def ack(common: Common, channel: str | None, message: str) -> None:
    """Record the acknowledgment sent to the customer (when not automatic)."""
    send(
        common,
        lambda: d.AcknowledgeInput(
            **common.envelope(), channel=Channel(channel) if channel else None, message=message
        ),
    )


@decision_command(d.Decision.TRIAGE, "triage")
@click.option("--severity", required=True, type=choice_of(d.Severity))
@click.option("--category", required=True, help="The complaint category, e.g. product-safety.")
@click.option("--risk", "risk_rationale", required=True, help="The risk rationale.")
@click.option("--assignee", required=True, help="Who investigates.")
@click.option(
    "--reportable/--not-reportable",
    default=None,
    help="Must the complaint be reported to a regulator? (required)",
)
@click.option(
    "--justification",
    "reportable_justification",
    required=True,
    help="Why it is, or is not, reportable.",
)
@click.option("--regulator", default=None, help="Which regulator, when reportable.")
@click.option(
    "--aware-at",
    type=When(Day.PAST),
    default=None,
    help="When the company became aware (default: receipt; with --market, receipt upstream).",
)
@click.option(
    "--market",
    "markets",
    multiple=True,
    type=choice_of(Market),
    help="A market the device is sold in (repeatable): the regulator clocks then follow the "
    "reporting rules per market (FDA MDR for US, EU MDR Art. 87 for EU).",
)
@click.option(
    "--event-class",
    type=choice_of(EventClass),
    default=None,
    help="What happened, for the reporting rules (with --market, when reportable).",
)
@click.option(
    "--remedial-action/--no-remedial-action",
    default=None,
    help="Remedial action is needed to prevent an unreasonable risk of substantial harm "
    "(US: the 5-work-day report instead of the 30-day one).",
)
def triage(
    common: Common,
    severity: str,
    category: str,
    risk_rationale: str,
    assignee: str,
    reportable: bool | None,
    reportable_justification: str,
    regulator: str | None,
    aware_at: datetime | None,
    markets: tuple[str, ...],
    event_class: str | None,
    remedial_action: bool | None,
) -> None:
    """Set severity, category, risk rationale, assignee and reportability (and, with
    --market, the markets and event class that decide which regulator reports are owed)."""
    require(reportable is not None, "say --reportable or --not-reportable")
    send(
        common,
        lambda: d.TriageInput(
            **common.envelope(),
            severity=d.Severity(severity.lower()),
            category=category,
            risk_rationale=risk_rationale,
            assignee=assignee,
            reportable=bool(reportable),
            reportable_justification=reportable_justification,
            regulator=regulator,
            aware_at=aware_at,
            markets=[Market(m.upper()) for m in markets] if markets else None,
            event_class=EventClass(event_class.lower()) if event_class else None,
            remedial_action=remedial_action,
        ),
    )


@decision_command(
    d.Decision.INVESTIGATE, "investigate", decides=(d.Decision.DECLINE_INVESTIGATION,)
)
@click.option("--method", type=choice_of(d.InvestigationMethod), help="The analysis method.")
@click.option("--method-detail", default="", help="Required for --method other.")
@click.option("--root-cause", "root_causes", multiple=True, help="Repeat for each root cause.")
@click.option(
    "--factor", "contributing_factors", multiple=True, help="A contributing factor (repeatable)."
)
@click.option("--evidence", multiple=True, help="An evidence reference (repeatable).")
@click.option("--preliminary", is_flag=True, help="A finding, not the conclusion.")
@click.option("--no-capa-needed", is_flag=True, help="Concluded: no corrective action needed.")
@click.option(
    "--decline",
    "decline_reason",
    default=None,
    help="Instead: the documented decision NOT to investigate, with this reason.",
)
def investigate(
    common: Common,
    method: str | None,
    method_detail: str,
    root_causes: tuple[str, ...],
    contributing_factors: tuple[str, ...],
    evidence: tuple[str, ...],
    preliminary: bool,
    no_capa_needed: bool,
    decline_reason: str | None,
) -> None:
    """Record a root-cause analysis, or (--decline) a decision not to investigate."""
    if decline_reason is not None:
        send(
            common,
            lambda: d.DeclineInvestigationInput(**common.envelope(), reason=decline_reason),
            d.Decision.DECLINE_INVESTIGATION,
        )
        return
    require(
        method is not None and bool(root_causes),
        "give --method and at least one --root-cause (or --decline REASON)",
    )
    require(
        method != d.InvestigationMethod.OTHER.value or bool(method_detail.strip()),
        "--method other needs --method-detail",
    )
    send(
        common,
        lambda: d.InvestigateInput(
            **common.envelope(),
            method=d.InvestigationMethod(str(method).lower()),
            method_detail=method_detail,
            root_causes=list(root_causes),
            contributing_factors=list(contributing_factors),
            evidence=list(evidence),
            final=not preliminary,
            capa_needed=not no_capa_needed,
        ),
    )


@decision_command(d.Decision.CLOSE, "close")
@click.option(
    "--response", "customer_response", required=True, help="The response sent to the customer."
)
@click.option("--channel", "response_channel", type=CHANNEL, default=None, help="How it was sent.")
def close(common: Common, customer_response: str, response_channel: str | None) -> None:
    """Close the complaint with the response sent to the customer."""
    send(
        common,
        lambda: d.CloseInput(
            **common.envelope(),
            customer_response=customer_response,
            response_channel=Channel(response_channel) if response_channel else None,
        ),
    )


@decision_command(d.Decision.REJECT, "reject")
@click.option("--duplicate-of", default=None, help="The complaint this one duplicates…")
@click.option("--not-a-complaint", is_flag=True, help="…or: it is not a complaint.")
@click.option("--reason", "explanation", required=True, help="Why (for the record only).")
@click.option(
    "--customer-response",
    default=None,
    help="Told to the customer with the decision; without it, a standard text states it.",
)
def reject(
    common: Common,
    duplicate_of: str | None,
    not_a_complaint: bool,
    explanation: str,
    customer_response: str | None,
) -> None:
    """Reject: a duplicate of another complaint, or not a complaint.

    The complainant is told the decision (ISO 10002 7.8), never the `--reason`: that is
    written for the record and may hold what a customer must not read."""
    require(
        not_a_complaint != (duplicate_of is not None),
        "give exactly one of --duplicate-of ID or --not-a-complaint",
    )
    send(
        common,
        lambda: d.RejectInput(
            **common.envelope(),
            reason=d.RejectReason.DUPLICATE if duplicate_of else d.RejectReason.NOT_A_COMPLAINT,
            duplicate_of=duplicate_of,
            explanation=explanation,
            customer_response=customer_response,
        ),
    )


@decision_command(d.Decision.LINK_RELATED, "link-related")
@click.option(
    "--to",
    "related_to",
    required=True,
    help="The related complaint's id: one of `show`'s similar complaints, or one you found.",
)
@click.option("--explanation", required=True, help="Why the two are related.")
def link_related(common: Common, related_to: str, explanation: str) -> None:
    """Link this complaint to a related one; both stay cases of their own (a duplicate: `reject
    --duplicate-of`). The audit entry keeps the suggestion's score, method and version."""
    require(related_to != common.complaint_id, "--to: a complaint cannot be related to itself")
    send(
        common,
        lambda: d.LinkRelatedInput(
            **common.envelope(), related_to=related_to, explanation=explanation
        ),
        must_exist=(related_to, "--to"),
    )


@decision_command(d.Decision.REOPEN, "reopen")
@click.option(
    "--why",
    "reason",
    type=choice_of(d.ReopenReason),
    default=d.ReopenReason.RECURRENCE.value,
    show_default=True,
)
@click.option("--explanation", required=True, help="What happened.")
def reopen(common: Common, reason: str, explanation: str) -> None:
    """Reopen a verifying or closed complaint: back to investigation (the loop is counted)."""
    send(
        common,
        lambda: d.ReopenInput(
            **common.envelope(), reason=d.ReopenReason(reason.lower()), explanation=explanation
        ),
    )


@decision_command(d.Decision.ADD_INFORMATION, "add-info")
@click.option("--information", required=True, help="The information, in its author's words.")
@click.option("--attachment", "attachments", multiple=True, help="A reference (repeatable).")
@click.option("--source", default="customer", show_default=True, help="Who supplied it.")
def add_info(common: Common, information: str, attachments: tuple[str, ...], source: str) -> None:
    """Add information (from the customer or anyone) to the complaint file."""
    send(
        common,
        lambda: d.AddInformationInput(
            **common.envelope(),
            information=information,
            attachments=list(attachments),
            source=source,
        ),
    )


@decision_command(d.Decision.RECORD_REGULATORY_REPORT, "report")
@click.option(
    "--market",
    type=choice_of(Market),
    default=None,
    help="The market whose owed report this is (cases triaged with --market).",
)
@click.option(
    "--kind",
    type=choice_of(ReportKind),
    default=None,
    help="Which report, when the market owes more than one (default: the one it owes).",
)
@click.option(
    "--regulator",
    default=None,
    help="The regulator the report went to (default with --market: that report's regulator).",
)
@click.option("--reference", required=True, help="The regulator's reference for the report.")
@click.option(
    "--submitted-at",
    type=When(Day.PAST),
    default=None,
    help="When it was filed (default: now); a bare date of today means today.",
)
def report(
    common: Common,
    market: str | None,
    kind: str | None,
    regulator: str | None,
    reference: str,
    submitted_at: datetime | None,
) -> None:
    """Record a report filed with a regulator (stops that report's clock). A case cannot
    close while a report its triage found owed is missing."""
    send(
        common,
        lambda: d.RegulatoryReportInput(
            **common.envelope(),
            regulator=regulator,
            reference=reference,
            submitted_at=submitted_at,
            market=Market(market.upper()) if market else None,
            kind=ReportKind(kind.lower()) if kind else None,
        ),
    )


@decision_command(d.Decision.RECORD_SURVEY, "survey")
@click.option("--csat", type=click.IntRange(1, 5), default=None, help="Satisfaction, 1 to 5.")
@click.option("--nps", type=click.IntRange(0, 10), default=None, help="Recommendation, 0-10.")
@click.option("--verbatim", default="", help="The customer's own words.")
@click.option("--survey-id", default=None, help="The survey tool's reference.")
def survey(
    common: Common, csat: int | None, nps: int | None, verbatim: str, survey_id: str | None
) -> None:
    """Record a customer's survey response (usually sent by the survey tool on Kafka)."""
    require(csat is not None or nps is not None, "give --csat, --nps or both")
    send(
        common,
        lambda: d.RecordSurveyInput(
            **common.envelope(), csat=csat, nps=nps, verbatim=verbatim, survey_id=survey_id
        ),
    )


COMMANDS = [ack, triage, investigate, close, reject, reopen, add_info, report, survey]


@decision_command(d.Decision.REQUEST_INFORMATION, "ask")
@click.option("--question", required=True, help="What the complainant is asked, in full.")
def ask(common: Common, question: str) -> None:
    """Ask the complainant for information: the workflow sends it as a message."""
    send(common, lambda: d.RequestInformationInput(**common.envelope(), question=question))
