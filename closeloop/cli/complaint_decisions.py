"""One command per decision: each sends a Temporal Update and prints its receipt.

Every command takes the complaint id, `--actor` (who decides, required), `--actor-name`,
`--comment` (why), `--update-id` (repeat a command with the same id to retry it safely) and
`--expect-hash` (refuse unless the complaint is still in the state you reviewed). A refused
decision prints the workflow's reason and exits 1.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import uuid4

import click
from pydantic import BaseModel, ValidationError

from base.settings import load_settings
from closeloop.cli.complaint_client import current_state, send_decision, temporal_command
from closeloop.cli.complaint_parsing import Duration, When
from closeloop.cli.complaint_view import receipt_summary
from schemas import decisions as d
from schemas.events import Channel


@dataclass(frozen=True)
class Common:
    complaint_id: str
    actor: d.Actor
    comment: str
    update_id: str
    expected_state_hash: str | None
    as_json: bool

    def envelope(self) -> dict[str, Any]:
        return {
            "actor": self.actor,
            "comment": self.comment,
            "expected_state_hash": self.expected_state_hash,
        }


def decision_options(command: Callable[..., None]) -> Callable[..., None]:
    """The arguments every decision takes, gathered into `Common`."""

    @click.argument("complaint_id")
    @click.option("--actor", required=True, help="Your user id: who takes the decision.")
    @click.option("--actor-name", default="", help="Your name, as the audit log shows it.")
    @click.option("--comment", default="", help="Why: recorded with the decision.")
    @click.option(
        "--update-id",
        default=None,
        help="Idempotency key; repeat a command with the same id to retry it safely "
        "(default: a new UUID, printed with the result).",
    )
    @click.option(
        "--expect-hash",
        default=None,
        help="The state hash you reviewed (from `show`); refused if the complaint changed.",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print the new state as JSON.")
    @functools.wraps(command)
    def wrapper(
        complaint_id: str,
        actor: str,
        actor_name: str,
        comment: str,
        update_id: str | None,
        expect_hash: str | None,
        as_json: bool,
        **options: Any,
    ) -> None:
        try:
            who = d.Actor(id=actor, name=actor_name)
        except ValidationError as invalid:
            raise click.BadParameter(_first_error(invalid), param_hint="--actor") from None
        common = Common(
            complaint_id=complaint_id,
            actor=who,
            comment=comment,
            update_id=update_id or str(uuid4()),
            expected_state_hash=expect_hash,
            as_json=as_json,
        )
        command(common, **options)

    return wrapper


def _first_error(invalid: ValidationError) -> str:
    error = invalid.errors(include_url=False, include_input=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "input"
    return f"{where}: {error['msg']}"


def send(common: Common, decision: d.Decision, build: Callable[[], BaseModel]) -> None:
    try:
        request = build()
    except ValidationError as invalid:
        raise click.UsageError(_first_error(invalid)) from None

    async def decide() -> None:
        settings = load_settings()
        receipt = await send_decision(
            settings, common.complaint_id, decision, request, common.update_id
        )
        state = await current_state(settings, common.complaint_id)  # for the headline
        if common.as_json:
            click.echo(state.model_dump_json(indent=2))
            return
        click.echo(receipt_summary(receipt, state))
        click.echo(f"update id: {common.update_id}")

    def run() -> None:
        asyncio.run(decide())

    temporal_command(run)


CHANNEL = click.Choice([c.value for c in Channel])


@click.command("ack")
@decision_options
@click.option("--channel", type=CHANNEL, help="How the acknowledgment was sent.")
@click.option("--message", default="", help="The acknowledgment, or a reference to it.")
def ack(common: Common, channel: str | None, message: str) -> None:
    """Record the acknowledgment sent to the customer (when not automatic)."""
    send(
        common,
        d.Decision.ACKNOWLEDGE,
        lambda: d.AcknowledgeInput(
            **common.envelope(), channel=Channel(channel) if channel else None, message=message
        ),
    )


@click.command("triage")
@decision_options
@click.option("--severity", required=True, type=click.Choice([s.value for s in d.Severity]))
@click.option("--category", required=True)
@click.option("--risk", "risk_rationale", required=True, help="The risk rationale.")
@click.option("--assignee", required=True, help="Who investigates.")
@click.option(
    "--reportable/--not-reportable",
    default=None,
    help="Must the complaint be reported to a regulator? (required)",
)
@click.option("--justification", required=True, help="Why it is, or is not, reportable.")
@click.option("--regulator", default=None, help="Which regulator, when reportable.")
@click.option(
    "--aware-at",
    type=When(),
    default=None,
    help="When the company became aware (default: receipt).",
)
def triage(
    common: Common,
    severity: str,
    category: str,
    risk_rationale: str,
    assignee: str,
    reportable: bool | None,
    justification: str,
    regulator: str | None,
    aware_at: datetime | None,
) -> None:
    """Set severity, category, risk rationale, assignee and reportability."""
    if reportable is None:
        raise click.UsageError("say --reportable or --not-reportable")
    send(
        common,
        d.Decision.TRIAGE,
        lambda: d.TriageInput(
            **common.envelope(),
            severity=d.Severity(severity),
            category=category,
            risk_rationale=risk_rationale,
            assignee=assignee,
            reportable=reportable,
            reportable_justification=justification,
            regulator=regulator,
            aware_at=aware_at,
        ),
    )


@click.command("investigate")
@decision_options
@click.option("--method", type=click.Choice([m.value for m in d.InvestigationMethod]))
@click.option("--method-detail", default="", help="Required for --method other.")
@click.option("--root-cause", "root_causes", multiple=True, help="Repeat for each root cause.")
@click.option("--factor", "factors", multiple=True, help="A contributing factor (repeatable).")
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
    factors: tuple[str, ...],
    evidence: tuple[str, ...],
    preliminary: bool,
    no_capa_needed: bool,
    decline_reason: str | None,
) -> None:
    """Record a root-cause analysis, or (--decline) a decision not to investigate."""
    if decline_reason is not None:
        send(
            common,
            d.Decision.DECLINE_INVESTIGATION,
            lambda: d.DeclineInvestigationInput(**common.envelope(), reason=decline_reason),
        )
        return
    if method is None or not root_causes:
        raise click.UsageError("give --method and at least one --root-cause (or --decline)")
    send(
        common,
        d.Decision.INVESTIGATE,
        lambda: d.InvestigateInput(
            **common.envelope(),
            method=d.InvestigationMethod(method),
            method_detail=method_detail,
            root_causes=list(root_causes),
            contributing_factors=list(factors),
            evidence=list(evidence),
            final=not preliminary,
            capa_needed=not no_capa_needed,
        ),
    )


@click.command("plan-capa")
@decision_options
@click.option(
    "--action",
    "actions",
    nargs=5,
    multiple=True,
    required=True,
    metavar="ID KIND OWNER DUE DESCRIPTION",
    help="One action (repeatable); KIND: correction, corrective or preventive; DUE: a date, "
    "a date-time or a time from now (14d).",
)
@click.option(
    "--verification-wait",
    type=Duration(),
    default=None,
    help="Wait after the last action before verifying (default: policy, 30d).",
)
def plan_capa(
    common: Common,
    actions: tuple[tuple[str, str, str, str, str], ...],
    verification_wait: timedelta | None,
) -> None:
    """Plan CAPA: each action runs as its own child workflow with its due date."""
    when = When()
    plans = [
        {
            "id": action_id,
            "kind": kind,
            "owner": owner,
            "due_at": when.convert(due, None, None),
            "description": description,
        }
        for action_id, kind, owner, due, description in actions
    ]
    send(
        common,
        d.Decision.PLAN_CAPA,
        lambda: d.PlanCapaInput(
            **common.envelope(),
            actions=[d.CapaActionPlan.model_validate(plan) for plan in plans],
            verification_wait=verification_wait,
        ),
    )


@click.command("progress")
@decision_options
@click.option("--action", "action_id", required=True, help="The CAPA action's id.")
@click.option("--note", required=True)
@click.option("--percent", type=click.IntRange(0, 100), default=None)
@click.option("--evidence", multiple=True)
def progress(
    common: Common, action_id: str, note: str, percent: int | None, evidence: tuple[str, ...]
) -> None:
    """Record progress on a CAPA action."""
    send(
        common,
        d.Decision.RECORD_ACTION_PROGRESS,
        lambda: d.ActionProgressInput(
            **common.envelope(),
            action_id=action_id,
            note=note,
            percent_complete=percent,
            evidence=list(evidence),
        ),
    )


@click.command("complete-action")
@decision_options
@click.option("--action", "action_id", required=True, help="The CAPA action's id.")
@click.option("--evidence", multiple=True, required=True, help="Completion evidence (repeatable).")
@click.option("--summary", default="")
def complete_action(
    common: Common, action_id: str, evidence: tuple[str, ...], summary: str
) -> None:
    """Complete a CAPA action, with evidence."""
    send(
        common,
        d.Decision.COMPLETE_ACTION,
        lambda: d.CompleteActionInput(
            **common.envelope(), action_id=action_id, evidence=list(evidence), summary=summary
        ),
    )


@click.command("extend")
@decision_options
@click.option("--action", "action_id", default=None, help="Move this CAPA action's due date…")
@click.option(
    "--stage",
    type=click.Choice([s.value for s in d.DeadlineStage]),
    default=None,
    help="…or this stage's deadline.",
)
@click.option("--due", "new_due_at", type=When(), required=True, help="The new due date.")
@click.option("--reason", required=True, help="Why the due date moves.")
def extend(
    common: Common,
    action_id: str | None,
    stage: str | None,
    new_due_at: datetime,
    reason: str,
) -> None:
    """Move a due date: an explicit decision with a reason."""
    send(
        common,
        d.Decision.EXTEND,
        lambda: d.ExtendInput(
            **common.envelope(),
            action_id=action_id,
            stage=d.DeadlineStage(stage) if stage else None,
            new_due_at=new_due_at,
            reason=reason,
        ),
    )


@click.command("verify")
@decision_options
@click.option("--effective/--not-effective", default=None, help="The verdict (required).")
@click.option("--evidence", multiple=True, required=True, help="Evidence (repeatable).")
@click.option(
    "--override-wait",
    "override_wait_reason",
    default=None,
    help="Verify before the planned wait has passed, and why.",
)
def verify(
    common: Common,
    effective: bool | None,
    evidence: tuple[str, ...],
    override_wait_reason: str | None,
) -> None:
    """Verify the effectiveness of the actions; not effective reopens the complaint."""
    if effective is None:
        raise click.UsageError("say --effective or --not-effective")
    send(
        common,
        d.Decision.VERIFY,
        lambda: d.VerifyInput(
            **common.envelope(),
            effective=effective,
            evidence=list(evidence),
            override_wait_reason=override_wait_reason,
        ),
    )


@click.command("close")
@decision_options
@click.option("--response", required=True, help="The response sent to the customer.")
@click.option("--channel", type=CHANNEL, default=None, help="How the response was sent.")
def close(common: Common, response: str, channel: str | None) -> None:
    """Close the complaint with the response sent to the customer."""
    send(
        common,
        d.Decision.CLOSE,
        lambda: d.CloseInput(
            **common.envelope(),
            customer_response=response,
            response_channel=Channel(channel) if channel else None,
        ),
    )


@click.command("reject")
@decision_options
@click.option("--duplicate-of", default=None, help="The complaint this one duplicates…")
@click.option("--not-a-complaint", is_flag=True, help="…or: it is not a complaint.")
@click.option("--reason", "explanation", required=True, help="Why.")
def reject(
    common: Common, duplicate_of: str | None, not_a_complaint: bool, explanation: str
) -> None:
    """Reject: a duplicate of another complaint, or not a complaint."""
    if not_a_complaint == (duplicate_of is not None):
        raise click.UsageError("give exactly one of --duplicate-of ID or --not-a-complaint")
    send(
        common,
        d.Decision.REJECT,
        lambda: d.RejectInput(
            **common.envelope(),
            reason=d.RejectReason.DUPLICATE if duplicate_of else d.RejectReason.NOT_A_COMPLAINT,
            duplicate_of=duplicate_of,
            explanation=explanation,
        ),
    )


@click.command("reopen")
@decision_options
@click.option(
    "--why",
    "reason",
    type=click.Choice([r.value for r in d.ReopenReason]),
    default=d.ReopenReason.RECURRENCE.value,
    show_default=True,
)
@click.option("--explanation", required=True)
def reopen(common: Common, reason: str, explanation: str) -> None:
    """Reopen a verifying or closed complaint: back to investigation (the loop is counted)."""
    send(
        common,
        d.Decision.REOPEN,
        lambda: d.ReopenInput(
            **common.envelope(), reason=d.ReopenReason(reason), explanation=explanation
        ),
    )


@click.command("add-info")
@decision_options
@click.option("--information", required=True)
@click.option("--attachment", "attachments", multiple=True)
@click.option("--source", default="customer", show_default=True)
def add_info(common: Common, information: str, attachments: tuple[str, ...], source: str) -> None:
    """Add information (from the customer or anyone) to the complaint file."""
    send(
        common,
        d.Decision.ADD_INFORMATION,
        lambda: d.AddInformationInput(
            **common.envelope(),
            information=information,
            attachments=list(attachments),
            source=source,
        ),
    )


@click.command("report")
@decision_options
@click.option("--regulator", required=True)
@click.option("--reference", required=True, help="The regulator's reference for the report.")
@click.option("--submitted-at", type=When(), default=None)
def report(common: Common, regulator: str, reference: str, submitted_at: datetime | None) -> None:
    """Record the report filed with the regulator (stops the regulator deadline)."""
    send(
        common,
        d.Decision.RECORD_REGULATORY_REPORT,
        lambda: d.RegulatoryReportInput(
            **common.envelope(),
            regulator=regulator,
            reference=reference,
            submitted_at=submitted_at,
        ),
    )


COMMANDS = [
    ack,
    triage,
    investigate,
    plan_capa,
    progress,
    complete_action,
    extend,
    verify,
    close,
    reject,
    reopen,
    add_info,
    report,
]
