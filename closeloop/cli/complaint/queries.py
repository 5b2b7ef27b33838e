"""`complaint list` and `complaint show`: reading complaints, never changing them."""

from __future__ import annotations

import click

from base.settings import load_settings
from closeloop.cli.complaint.client import current_state, list_complaints, visibility_query
from closeloop.cli.complaint.view import list_text
from closeloop.cli.options import choice_of
from closeloop.cli.read_commands import limit_option, print_rows, print_state
from schemas.complaint_state import ComplaintState, ComplaintStatus
from schemas.decisions import Severity


@click.command("list")
@click.option("--status", type=choice_of(ComplaintStatus), default=None, help="Only this status.")
@click.option("--severity", type=choice_of(Severity), default=None, help="Only this severity.")
@click.option("--category", default=None, help="Only this category (exact, as triaged).")
@click.option("--product", default=None, help="Only this product SKU.")
@click.option("--customer", default=None, help="Only this customer id.")
@click.option("--assignee", default=None, help="Only complaints assigned to this user id.")
@click.option("--overdue", is_flag=True, help="Only complaints with a missed deadline.")
@click.option("--reportable", is_flag=True, help="Only complaints reportable to a regulator.")
@click.option(
    "--all", "include_finished", is_flag=True, help="Include cases whose workflow has completed."
)
@limit_option
@click.option("--json", "as_json", is_flag=True, help="JSON lines, one complaint per line.")
def list_command(
    status: str | None,
    severity: str | None,
    category: str | None,
    product: str | None,
    customer: str | None,
    assignee: str | None,
    overdue: bool,
    reportable: bool,
    include_finished: bool,
    limit: int,
    as_json: bool,
) -> None:
    """Complaints from Temporal visibility, filtered like the Temporal UI."""
    query = visibility_query(
        status=status.lower() if status else None,
        severity=severity.lower() if severity else None,
        category=category,
        product=product,
        customer=customer,
        assignee=assignee,
        overdue=overdue,
        reportable=reportable,
        running_only=not include_finished,
    )

    print_rows(
        lambda: list_complaints(load_settings(), query, limit),
        as_json=as_json,
        table=list_text,
        none_match="no complaints match",
    )


@click.command("show")
@click.argument("complaint_id")
@click.option("--json", "as_json", is_flag=True, help="The whole state as JSON.")
def show(complaint_id: str, as_json: bool) -> None:
    """Everything about one complaint: status, what is due next, who decided what."""
    print_state(
        lambda: current_state(load_settings(), complaint_id), as_json=as_json, screen=_screen
    )


def _screen(state: ComplaintState) -> None:
    from closeloop.cli.complaint.screen import complaint_screen, print_screen

    print_screen(complaint_screen(state))
