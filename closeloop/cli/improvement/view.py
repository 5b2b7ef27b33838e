"""How an improvement reads in a terminal: the lines after a decision, `show`, `list`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from closeloop.cli.improvement.words import COMMAND_NAMES
from schemas.improvement import (
    CheckRecord,
    ImprovementDecision,
    ImprovementReceipt,
    ImprovementState,
)


def when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "-"


def duration(value: timedelta) -> str:
    if value % timedelta(days=1) == timedelta(0):
        return f"{value.days}d"
    return f"{value.total_seconds() / 3600:g}h"


def allowed(decisions: Sequence[ImprovementDecision]) -> str:
    return ", ".join(COMMAND_NAMES[d] for d in decisions) or "none"


def receipt_summary(receipt: ImprovementReceipt) -> str:
    overdue = "  OVERDUE" if receipt.overdue else ""
    lines = [f"{receipt.improvement_id}  {receipt.status}{overdue}"]
    audit = f" (audit #{receipt.audit_seq})" if receipt.audit_seq is not None else ""
    lines.append(f"recorded: {receipt.what or COMMAND_NAMES[receipt.decision]}{audit}")
    if receipt.next_due:
        late = " (OVERDUE)" if receipt.next_due.overdue else ""
        lines.append(f"next due: {receipt.next_due.what} by {when(receipt.next_due.due_at)}{late}")
    lines.append(f"allowed next: {allowed(receipt.allowed_decisions)}")
    lines.append(f"state hash: {receipt.state_hash}")
    return "\n".join(lines)


def _check_lines(check: CheckRecord) -> list[str]:
    early = f"; early: {check.override_wait_reason}" if check.override_wait_reason else ""
    lines = [
        f"  round {check.round}, {when(check.at)} by {check.by.id}: {check.verdict} "
        f"(before {check.before_level}, after {check.after_level}; audit log size "
        f"{check.tree_size}){early}"
    ]
    for period in [*check.before, *check.after]:
        lines.append(
            f"    {period.label:<9} {when(period.start)} to {when(period.end)}: {period.value}"
        )
    return lines


def show_text(state: ImprovementState) -> str:
    opened, measure = state.opened, state.opened.measure
    filters = ", ".join(f"{k}={v}" for k, v in sorted(measure.filters.items())) or "all"
    lines = [
        f"{state.improvement_id}  {state.status}  round {state.round}"
        + ("  OVERDUE" if state.overdue else ""),
        f"owner:        {opened.owner}",
        f"problem:      {opened.problem}",
        f"signal:       {opened.signal_id or '-'}",
        f"complaints:   {', '.join(opened.complaint_ids) or '-'}",
        f"measure:      {measure.figure} for {filters}, {measure.better} is better, "
        f"{measure.periods} x {duration(measure.period)} before and after",
        f"opened:       {when(state.opened_at)} by {opened.opened_by.id}",
    ]
    if state.next_due:
        late = " OVERDUE" if state.next_due.overdue else ""
        lines.append(f"next due:     {state.next_due.what} by {when(state.next_due.due_at)}{late}")
    lines.append(f"allowed next: {allowed(state.allowed_decisions)}")
    lines.append(f"state hash:   {state.state_hash}")
    for plan in state.plans:
        lines.append(f"plan, round {plan.round}: {plan.plan} ({plan.by.id})")
    if state.actions:
        lines.append("actions:")
        for a in state.actions:
            late = " OVERDUE" if a.overdue else ""
            lines.append(
                f"  {a.id}  round {a.planned.loop}  {a.owner}  due {when(a.due_at)}  "
                f"{a.status}{late}  {a.description}"
            )
    if state.checks:
        lines.append("checks:")
        for check in state.checks:
            lines.extend(_check_lines(check))
    lines.append("history:")
    for item in state.history:
        meaning = f" [{item.meaning}]" if item.meaning else ""
        audit = f" audit #{item.audit_seq}" if item.audit_seq else ""
        lines.append(
            f"  {when(item.at)}  {item.status:<12} {item.what} ({item.actor}){meaning}{audit}"
        )
    return "\n".join(lines)


LIST_COLUMNS = {
    "improvement": "id",
    "status": "status",
    "owner": "owner",
    "product": "product",
    "overdue": "overdue",
    "next due": "next_due",
}


def list_text(rows: Sequence[dict[str, Any]]) -> str:
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
