"""How a complaint reads in a terminal: the `show` screen, the line after a decision, the list."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

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


def complaint_screen(state: ComplaintState) -> Group:
    """The `show` screen: the case, its deadlines, its actions and everything that happened."""
    complaint = state.complaint
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold")
    facts.add_column()
    facts.add_row("complaint", headline(state))
    facts.add_row("summary", complaint.summary)
    facts.add_row("customer", complaint.customer.id + _optional(complaint.customer.name))
    facts.add_row("product", complaint.product.sku + _optional(complaint.product.lot, "lot "))
    facts.add_row("received", f"{when(state.received_at)} via {complaint.channel}")
    if state.next_due:
        late = " OVERDUE" if state.next_due.overdue else ""
        facts.add_row("next due", f"{state.next_due.what} by {when(state.next_due.due_at)}{late}")
    facts.add_row("allowed next", allowed(state.allowed_decisions))
    facts.add_row("state hash", state.state_hash)
    parts: list[Table | Text] = [facts]

    if state.deadlines:
        table = Table(title="deadlines", title_justify="left", header_style="bold")
        for column in ("stage", "loop", "due", "escalated", "resolved"):
            table.add_column(column)
        for d in state.deadlines:
            resolved = f"{d.resolution} {when(d.resolved_at)}" if d.resolved_at else "open"
            table.add_row(d.stage, str(d.loop), when(d.due_at), when(d.escalated_at), resolved)
        parts.append(table)

    if state.actions:
        table = Table(title="CAPA actions", title_justify="left", header_style="bold")
        for column in ("id", "kind", "owner", "due", "status", "description"):
            table.add_column(column, overflow="fold")
        for a in state.actions:
            status = f"{a.status}{' OVERDUE' if a.overdue else ''}"
            table.add_row(a.id, a.kind, a.owner, when(a.due_at), status, a.description)
        parts.append(table)

    table = Table(title="history", title_justify="left", header_style="bold")
    for column in ("when", "status", "what", "who", "meaning", "audit"):
        table.add_column(column, overflow="fold")
    for item in state.history:
        who = f"{item.actor_name} ({item.actor})" if item.actor_name else item.actor
        table.add_row(
            when(item.at),
            item.status,
            item.what + (f"\n“{item.comment}”" if item.comment else ""),
            who,
            item.meaning or "",
            str(item.audit_seq or ""),
        )
    parts.append(table)
    return Group(*parts)


def _optional(value: str | None, prefix: str = "") -> str:
    return f" ({prefix}{value})" if value else ""


def list_table(rows: Sequence[dict[str, Any]]) -> Table:
    table = Table(header_style="bold")
    for column in (
        "complaint",
        "status",
        "severity",
        "category",
        "assignee",
        "overdue",
        "next due",
    ):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(
            *(row[key] for key in ("id", "status", "severity", "category", "assignee")),
            "yes" if row["overdue"] else "",
            row["next_due"],
        )
    return table


def print_renderable(renderable: Table | Group) -> None:
    Console(width=120 if not Console().is_terminal else None).print(renderable)
