"""Talking to complaint workflows from the CLI, with errors an operator can act on."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from base import complaints
from base.settings import Settings
from base.temporal import connect
from schemas import search_attributes
from schemas.complaint_state import ComplaintState
from schemas.decisions import COMPLAINT_WORKFLOW, STATE_QUERY, Decision
from schemas.outcomes import DecisionReceipt


class Refused(click.ClickException):
    """The workflow's validator refused the decision; the message says why."""

    def format_message(self) -> str:
        return f"refused: {self.message}"


def temporal_command(run: Callable[[], None]) -> None:
    """Run a command that used a Temporal client, then end the process without interpreter
    teardown: the client's Rust threads can abort a finalizing interpreter with SIGABRT
    (temporalio/sdk-python#300), which would turn a success into exit code -6. In-process
    callers (tests with click's CliRunner) get ordinary click behaviour."""
    if not _is_cli_process():
        run()
        return
    code = 0
    try:
        run()
    except click.ClickException as error:
        error.show()
        code = error.exit_code
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _is_cli_process() -> bool:
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    return getattr(spec, "name", None) == "closeloop.__main__" or (
        Path(sys.argv[0]).name == "closeloop"
    )


async def client_for(settings: Settings) -> Client:
    try:
        return await connect(settings)
    except RuntimeError as exc:
        raise click.ClickException(
            f"cannot reach Temporal at {settings.temporal_address}: {exc}"
        ) from None


def _not_found(complaint_id: str, error: RPCError) -> click.ClickException:
    if "complete" in error.message.lower():
        return click.ClickException(
            f"complaint {complaint_id} is no longer open: its workflow has completed"
        )
    return click.ClickException(f"no complaint {complaint_id}")


async def send_decision(
    settings: Settings,
    complaint_id: str,
    decision: Decision,
    request: BaseModel,
    update_id: str,
) -> DecisionReceipt:
    """Send one decision as a Temporal Update and return its receipt."""
    client = await client_for(settings)
    try:
        return await complaints.send_decision(
            client, complaint_id, decision, request, update_id=update_id
        )
    except complaints.DecisionRefusedError as refused:
        raise Refused(refused.refusal.plain()) from None
    except WorkflowUpdateFailedError as failed:
        cause = failed.cause
        raise Refused(str(getattr(cause, "message", None) or cause or failed)) from None
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise _not_found(complaint_id, error) from None
        raise click.ClickException(f"Temporal refused the request: {error.message}") from None


async def current_state(settings: Settings, complaint_id: str) -> ComplaintState:
    client = await client_for(settings)
    handle = client.get_workflow_handle(complaints.workflow_id_for(complaint_id))
    try:
        return await handle.query(STATE_QUERY, result_type=ComplaintState)
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            raise click.ClickException(f"no complaint {complaint_id}") from None
        raise click.ClickException(f"Temporal refused the query: {error.message}") from None


def visibility_query(
    *,
    status: str | None,
    overdue: bool,
    severity: str | None,
    assignee: str | None,
    reportable: bool,
    running_only: bool,
) -> str:
    """The Temporal visibility query for `complaint list` (the same the UI accepts)."""
    clauses = [f"WorkflowType = '{COMPLAINT_WORKFLOW}'"]
    if running_only:
        clauses.append("ExecutionStatus = 'Running'")
    for key, value in (
        (search_attributes.STATUS, status),
        (search_attributes.SEVERITY, severity),
        (search_attributes.ASSIGNEE, assignee),
    ):
        if value:
            clauses.append(f"{key.name} = '{_quoted(value)}'")
    if overdue:
        clauses.append(f"{search_attributes.OVERDUE.name} = true")
    if reportable:
        clauses.append(f"{search_attributes.REPORTABLE.name} = true")
    return " AND ".join(clauses)


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


async def list_complaints(settings: Settings, query: str, limit: int) -> list[dict[str, Any]]:
    """One row per complaint, from its search attributes (no workflow is queried)."""
    client = await client_for(settings)
    rows: list[dict[str, Any]] = []
    try:
        async for execution in client.list_workflows(query, limit=limit):
            attributes = execution.typed_search_attributes
            due: datetime | None = attributes.get(search_attributes.NEXT_DUE)
            rows.append(
                {
                    "id": execution.id,
                    "status": attributes.get(search_attributes.STATUS) or "",
                    "severity": attributes.get(search_attributes.SEVERITY) or "",
                    "category": attributes.get(search_attributes.CATEGORY) or "",
                    "assignee": attributes.get(search_attributes.ASSIGNEE) or "",
                    "product": attributes.get(search_attributes.PRODUCT) or "",
                    "customer": attributes.get(search_attributes.CUSTOMER) or "",
                    "overdue": bool(attributes.get(search_attributes.OVERDUE)),
                    "reportable": bool(attributes.get(search_attributes.REPORTABLE)),
                    "next_due": due.strftime("%Y-%m-%d %H:%M UTC") if due else "",
                    "started": execution.start_time.strftime("%Y-%m-%d %H:%M UTC"),
                    "workflow_status": execution.status.name if execution.status else "",
                }
            )
    except RPCError as error:
        raise click.ClickException(f"Temporal refused the list query: {error.message}") from None
    return rows
