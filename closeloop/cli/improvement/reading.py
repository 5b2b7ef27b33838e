"""`improvement list` and `improvement show`: reading improvements, never changing them."""

from __future__ import annotations

import click

from base.settings import load_settings
from closeloop.cli.improvement.client import current_state, list_improvements, visibility_query
from closeloop.cli.improvement.view import list_text, show_text
from closeloop.cli.options import choice_of
from closeloop.cli.read_commands import limit_option, print_rows, print_state
from schemas.improvement import ImprovementState, ImprovementStatus


@click.command("list")
@click.option("--status", type=choice_of(ImprovementStatus), default=None, help="Only this status.")
@click.option("--owner", default=None, help="Only improvements this user id owns.")
@click.option("--product", default=None, help="Only improvements measured for this product.")
@click.option("--overdue", is_flag=True, help="Only improvements with a missed deadline.")
@click.option("--all", "include_finished", is_flag=True, help="Include standardised improvements.")
@limit_option
@click.option("--json", "as_json", is_flag=True, help="JSON lines, one improvement per line.")
def list_command(
    status: str | None,
    owner: str | None,
    product: str | None,
    overdue: bool,
    include_finished: bool,
    limit: int,
    as_json: bool,
) -> None:
    """Improvements from Temporal visibility, filtered like the Temporal UI."""
    query = visibility_query(
        status=status.lower() if status else None,
        owner=owner,
        product=product,
        overdue=overdue,
        running_only=not include_finished,
    )

    print_rows(
        lambda: list_improvements(load_settings(), query, limit),
        as_json=as_json,
        table=list_text,
        none_match="no improvements match",
    )


@click.command("show")
@click.argument("improvement_id")
@click.option("--json", "as_json", is_flag=True, help="The whole state as JSON.")
def show(improvement_id: str, as_json: bool) -> None:
    """Everything about one improvement: the cycle so far, the checks, what is due next."""
    print_state(
        lambda: current_state(load_settings(), improvement_id), as_json=as_json, screen=_screen
    )


def _screen(state: ImprovementState) -> None:
    click.echo(show_text(state))
