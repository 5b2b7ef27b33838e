"""The CAPA decisions: plan actions, record progress, complete one, move a due date, verify."""

from __future__ import annotations

from datetime import datetime, timedelta

import click

from closeloop.cli.complaint.decisions import Common, decision_command, require, send
from closeloop.cli.complaint.parsing import parse_actions
from closeloop.cli.options import Day, Duration, When, choice_of
from schemas import decisions as d


@decision_command(d.Decision.PLAN_CAPA, "plan-capa")
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
    help="Wait after the last action before verifying (default: policy, 30d; 0d: none).",
)
def plan_capa(
    common: Common,
    actions: tuple[tuple[str, str, str, str, str], ...],
    verification_wait: timedelta | None,
) -> None:
    """Plan CAPA: each action runs as its own child workflow with its due date."""
    plans = parse_actions(actions)
    send(
        common,
        lambda: d.PlanCapaInput(
            **common.envelope(), actions=plans, verification_wait=verification_wait
        ),
    )


@decision_command(d.Decision.RECORD_ACTION_PROGRESS, "progress")
@click.option("--action", "action_id", required=True, help="The CAPA action's id.")
@click.option("--note", required=True, help="What was done.")
@click.option("--percent", "percent_complete", type=click.IntRange(0, 100), default=None)
@click.option("--evidence", multiple=True, help="An evidence reference (repeatable).")
def progress(
    common: Common,
    action_id: str,
    note: str,
    percent_complete: int | None,
    evidence: tuple[str, ...],
) -> None:
    """Record progress on a CAPA action."""
    send(
        common,
        lambda: d.ActionProgressInput(
            **common.envelope(),
            action_id=action_id,
            note=note,
            percent_complete=percent_complete,
            evidence=list(evidence),
        ),
    )


@decision_command(d.Decision.COMPLETE_ACTION, "complete-action")
@click.option("--action", "action_id", required=True, help="The CAPA action's id.")
@click.option("--evidence", multiple=True, required=True, help="Completion evidence (repeatable).")
@click.option("--summary", default="", help="What was done, in a sentence.")
def complete_action(
    common: Common, action_id: str, evidence: tuple[str, ...], summary: str
) -> None:
    """Complete a CAPA action, with evidence."""
    send(
        common,
        lambda: d.CompleteActionInput(
            **common.envelope(), action_id=action_id, evidence=list(evidence), summary=summary
        ),
    )


@decision_command(d.Decision.EXTEND, "extend")
@click.option("--action", "action_id", default=None, help="Move this CAPA action's due date…")
@click.option("--stage", type=choice_of(d.DeadlineStage), default=None, help="…or this stage's.")
@click.option("--due", "new_due_at", type=When(Day.END), required=True, help="The new due date.")
@click.option("--reason", required=True, help="Why the due date moves.")
@click.option(
    "--allow-earlier",
    is_flag=True,
    help="The new due date may be earlier than the current one (never in the past).",
)
def extend(
    common: Common,
    action_id: str | None,
    stage: str | None,
    new_due_at: datetime,
    reason: str,
    allow_earlier: bool,
) -> None:
    """Move a due date: an explicit decision with a reason.

    Later is the usual case; earlier only with --allow-earlier, and never into the past."""
    require((action_id is None) != (stage is None), "give exactly one of --action or --stage")
    send(
        common,
        lambda: d.ExtendInput(
            **common.envelope(),
            action_id=action_id,
            stage=d.DeadlineStage(stage.lower()) if stage else None,
            new_due_at=new_due_at,
            reason=reason,
            allow_earlier=allow_earlier,
        ),
    )


@decision_command(d.Decision.VERIFY, "verify")
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
    require(effective is not None, "say --effective or --not-effective")
    send(
        common,
        lambda: d.VerifyInput(
            **common.envelope(),
            effective=bool(effective),
            evidence=list(evidence),
            override_wait_reason=override_wait_reason,
        ),
    )


COMMANDS = [plan_capa, progress, complete_action, extend, verify]
