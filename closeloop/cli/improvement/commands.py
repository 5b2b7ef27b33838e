"""Open an improvement, and the decisions of its cycle: plan, complete-action, check, close."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import click
from pydantic import ValidationError

from base.settings import Settings, load_settings
from closeloop.cli.complaint.parsing import parse_actions
from closeloop.cli.improvement import words
from closeloop.cli.improvement.client import current_state, open_improvement
from closeloop.cli.improvement.deciding import (
    Common,
    decision_command,
    require,
    send,
    signer_options,
)
from closeloop.cli.improvement.view import show_text
from closeloop.cli.options import Duration, choice_of
from closeloop.cli.process_exit import run_then_exit
from kpi.figures import FIGURES
from kpi.periods import ATTRIBUTE_DIMENSIONS
from schemas import improvement as i
from schemas.decisions import Actor

Dn = i.ImprovementDecision


def _filters(pairs: tuple[str, ...]) -> dict[str, str]:
    found: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip().lower()
        if not sep or not value.strip():
            raise click.BadParameter(f"{pair!r} is not DIMENSION=VALUE", param_hint="--for")
        if name not in ATTRIBUTE_DIMENSIONS:
            raise click.BadParameter(
                f"{name!r} is not a dimension; choose from {', '.join(ATTRIBUTE_DIMENSIONS)}",
                param_hint="--for",
            )
        found[name] = value.strip()
    return found


@click.command("open")
@click.option("--owner", required=True, help="Who owns the improvement (a user id).")
@click.option("--problem", required=True, help="The problem statement.")
@click.option(
    "--figure",
    required=True,
    type=click.Choice([f.name for f in FIGURES]),
    metavar="FIGURE",
    help="The `closeloop kpi` figure (e.g. complaints_received, csat_mean) that shows "
    "the problem, and must show the improvement.",
)
@click.option(
    "--for",
    "filters",
    multiple=True,
    metavar="DIMENSION=VALUE",
    help="Only complaints with this product, category, channel, severity or source "
    "(repeatable), e.g. product=KET-200.",
)
@click.option(
    "--better",
    type=choice_of(i.Better),
    default=i.Better.LOWER.value,
    show_default=True,
    help="Which way the figure should move.",
)
@click.option(
    "--periods",
    type=click.IntRange(1, 24),
    default=3,
    show_default=True,
    help="How many periods before opening and after the actions the check compares.",
)
@click.option(
    "--period", type=Duration(), default="30d", show_default=True, help="One period's length."
)
@click.option("--signal", "signal_id", default=None, help="The trend signal's id, if any.")
@click.option(
    "--complaint", "complaint_ids", multiple=True, help="A linked complaint id (repeatable)."
)
@click.option("--id", "improvement_id", default=None, help="The id (default: IMP- and a date).")
@click.option("--comment", default="", help="Why: recorded with the opening.")
@click.option("--json", "as_json", is_flag=True, help="Print the new state as JSON.")
@signer_options
def open_command(
    signer: tuple[Actor, bool | None],
    owner: str,
    problem: str,
    figure: str,
    filters: tuple[str, ...],
    better: str,
    periods: int,
    period: timedelta,
    signal_id: str | None,
    complaint_ids: tuple[str, ...],
    improvement_id: str | None,
    comment: str,
    as_json: bool,
) -> None:
    """Open an improvement: a workflow of its own that starts in Plan."""
    require(period > timedelta(0), "--period must be longer than zero")
    new_id = improvement_id or f"IMP-{datetime.now(UTC):%Y%m%d}-{uuid4().hex[:6].upper()}"
    try:
        opened = i.OpenImprovement(
            improvement_id=new_id,
            opened_by=signer[0],
            authenticated=signer[1],
            owner=owner,
            problem=problem,
            signal_id=signal_id,
            complaint_ids=list(complaint_ids),
            comment=comment,
            measure=i.Measure(
                figure=figure,
                filters=_filters(filters),
                better=i.Better(better.lower()),
                periods=periods,
                period=period,
            ),
        )
    except ValidationError as invalid:
        raise click.UsageError(words.explain_invalid(invalid)) from None

    def run() -> None:
        settings = load_settings()
        asyncio.run(open_improvement(settings, opened))
        state = asyncio.run(_opened_state(settings, new_id))
        click.echo(state.model_dump_json(indent=2) if as_json else show_text(state))

    run_then_exit(run)


async def _opened_state(settings: Settings, improvement_id: str) -> i.ImprovementState:
    """The state once the opening is audited (the first workflow task does it)."""
    for _ in range(300):
        state = await current_state(settings, improvement_id)
        if state.history:
            return state
        await asyncio.sleep(0.05)
    return state


@decision_command("plan")
@click.option("--change", "plan", required=True, help="What will change, and why it should help.")
@click.option(
    "--action",
    "actions",
    nargs=5,
    multiple=True,
    required=True,
    metavar="ID KIND OWNER DUE DESCRIPTION",
    help="One action (repeatable), run as a CAPA child workflow; KIND: correction, "
    "corrective or preventive; DUE: a date, a date-time or a time from now (14d).",
)
def plan(common: Common, plan: str, actions: tuple[tuple[str, str, str, str, str], ...]) -> None:
    """Plan: the change and its actions (each a CAPA action with its own due date)."""
    plans = parse_actions(actions)
    send(common, Dn.PLAN, lambda: i.PlanInput(**common.envelope(), plan=plan, actions=plans))


@decision_command("complete-action")
@click.option("--action", "action_id", required=True, help="The action's id.")
@click.option("--evidence", multiple=True, required=True, help="Completion evidence (repeatable).")
@click.option("--summary", default="", help="What was done, in a sentence.")
def complete_action(
    common: Common, action_id: str, evidence: tuple[str, ...], summary: str
) -> None:
    """Do: complete an action, with evidence; the last one starts the Check."""
    send(
        common,
        Dn.COMPLETE_ACTION,
        lambda: i.CompleteImprovementActionInput(
            **common.envelope(), action_id=action_id, evidence=list(evidence), summary=summary
        ),
    )


@decision_command("check")
@click.option(
    "--override-wait",
    "override_wait_reason",
    default=None,
    help="Check before the periods after the actions have passed, and why (they are cut at now).",
)
def check(common: Common, override_wait_reason: str | None) -> None:
    """Check: the figure in the periods after the actions against the periods before."""
    send(
        common,
        Dn.CHECK,
        lambda: i.CheckInput(**common.envelope(), override_wait_reason=override_wait_reason),
    )


@decision_command("close")
@click.option(
    "--standardise",
    "standard",
    default=None,
    help="Act: it worked; where it is now the standard (procedure, work instruction).",
)
@click.option("--again", "reason", default=None, help="…or: go round again (back to Plan), why.")
def close(common: Common, standard: str | None, reason: str | None) -> None:
    """Act: standardise (ends the improvement) or go round again (back to Plan)."""
    require(
        (standard is None) != (reason is None),
        "give exactly one of --standardise TEXT or --again REASON",
    )
    if standard is not None:
        send(
            common,
            Dn.STANDARDISE,
            lambda: i.StandardiseInput(**common.envelope(), standard=standard),
        )
        return
    send(common, Dn.GO_ROUND_AGAIN, lambda: i.GoRoundAgainInput(**common.envelope(), reason=reason))
