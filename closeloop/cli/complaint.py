"""`closeloop complaint …`: what operators use to see complaints and take decisions.

`list` reads Temporal visibility (the search attributes the UI filters on), `show` asks
the complaint's workflow itself (the `current_state` query), and every decision command
sends one Temporal Update (see `complaint_decisions`).
"""

from __future__ import annotations

import asyncio
import json

import click

from base.settings import load_settings
from closeloop.cli.complaint_client import (
    current_state,
    list_complaints,
    temporal_command,
    visibility_query,
)
from closeloop.cli.complaint_decisions import COMMANDS
from closeloop.cli.complaint_view import complaint_screen, list_table, print_renderable
from schemas.complaint_state import ComplaintStatus


@click.group()
def complaint() -> None:
    """List and show complaints; take decisions (each is a Temporal Update)."""


@complaint.command("list")
@click.option("--status", type=click.Choice([s.value for s in ComplaintStatus]), default=None)
@click.option("--overdue", is_flag=True, help="Only complaints with a missed deadline.")
@click.option("--severity", default=None)
@click.option("--assignee", default=None)
@click.option("--reportable", is_flag=True, help="Only complaints reportable to a regulator.")
@click.option(
    "--all", "include_finished", is_flag=True, help="Include cases whose workflow has completed."
)
@click.option("--limit", type=click.IntRange(min=1), default=200, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="JSON lines, one complaint per line.")
def list_command(
    status: str | None,
    overdue: bool,
    severity: str | None,
    assignee: str | None,
    reportable: bool,
    include_finished: bool,
    limit: int,
    as_json: bool,
) -> None:
    """Complaints from Temporal visibility, filtered like the Temporal UI."""
    query = visibility_query(
        status=status,
        overdue=overdue,
        severity=severity,
        assignee=assignee,
        reportable=reportable,
        running_only=not include_finished,
    )

    def run() -> None:
        rows = asyncio.run(list_complaints(load_settings(), query, limit))
        if as_json:
            for row in rows:
                click.echo(json.dumps(row, ensure_ascii=False))
        elif rows:
            print_renderable(list_table(rows))
        else:
            click.echo("no complaints match")

    temporal_command(run)


@complaint.command("show")
@click.argument("complaint_id")
@click.option("--json", "as_json", is_flag=True, help="The whole state as JSON.")
def show(complaint_id: str, as_json: bool) -> None:
    """Everything about one complaint: status, what is due next, who decided what."""

    def run() -> None:
        state = asyncio.run(current_state(load_settings(), complaint_id))
        if as_json:
            click.echo(state.model_dump_json(indent=2))
        else:
            print_renderable(complaint_screen(state))

    temporal_command(run)


for command in COMMANDS:
    complaint.add_command(command)
