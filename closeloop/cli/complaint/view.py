"""How a complaint reads in a terminal: the line after a decision, the list (plain text).

The `show` screen, which needs rich, is in `screen`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from closeloop.cli.complaint.vocabulary import command_name
from schemas.complaint_state import ComplaintState
from schemas.decisions import Decision
from schemas.outcomes import DecisionReceipt


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def headline(state: ComplaintState) -> str:
    parts = [f"{state.complaint_id}  {state.status}"]
    if state.triage:
        triage = state.triage
        reportable = ", reportable" if triage.reportable else ""
        parts.append(f"({triage.severity} {triage.category}{reportable}; {triage.assignee})")
    if state.overdue:
        parts.append("OVERDUE")
    if state.loop:
        parts.append(f"reopened {state.loop}x")
    return "  ".join(parts)


def allowed(decisions: list[Decision]) -> str:
    """The decisions allowed now, as the `closeloop complaint` commands that send them."""
    return ", ".join(command_name(decision) for decision in decisions) or "none"


def receipt_summary(receipt: DecisionReceipt) -> str:
    """What a decision command prints: where the complaint is now and what comes next."""
    overdue = "  OVERDUE" if receipt.overdue else ""
    lines = [f"{receipt.complaint_id}  {receipt.status}{overdue}"]
    if receipt.what or receipt.audit_seq is not None:
        audit = f" (audit #{receipt.audit_seq})" if receipt.audit_seq is not None else ""
        lines.append(f"recorded: {receipt.what or command_name(receipt.decision)}{audit}")
    if receipt.next_due:
        late = " (OVERDUE)" if receipt.next_due.overdue else ""
        due = receipt.next_due
        lines.append(f"next due: {due.what} by {when(due.due_at)}{late}")
    lines.append(f"allowed next: {allowed(receipt.allowed_decisions)}")
    lines.append(f"state hash: {receipt.state_hash}")
    return "\n".join(lines)


LIST_COLUMNS = {
    "complaint": "id",
    "status": "status",
    "severity": "severity",
    "category": "category",
    "assignee": "assignee",
    "overdue": "overdue",
    "next due": "next_due",
}


def list_text(rows: Sequence[dict[str, Any]]) -> str:
    """The `list` table as plain aligned columns (no rich: `list` should start fast)."""
    cells = [
        [
            ("yes" if row[key] else "") if key == "overdue" else str(row[key])
            for key in LIST_COLUMNS.values()
        ]
        for row in rows
    ]
    header = list(LIST_COLUMNS)
    widths = [max(len(line[i]) for line in [header, *cells]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in [header, *cells]
    )


def _cell(row: dict[str, Any], key: str) -> str:
    if key == "overdue":
        return "yes" if row[key] else ""
    return str(row[key])
