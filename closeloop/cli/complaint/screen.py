"""The `show` screen: the case, its deadlines, its actions, the messages to the complainant
and everything that happened.

Drawn with rich, imported only by `show`."""

from __future__ import annotations

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from closeloop.cli.complaint.view import allowed, headline, when
from schemas.complaint_state import ComplaintState
from schemas.qmsr import record_from_state


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
            stage = f"{d.stage} ({d.report})" if d.report else str(d.stage)
            table.add_row(stage, str(d.loop), when(d.due_at), when(d.escalated_at), resolved)
        parts.append(table)

    if state.reporting is not None:
        parts.append(_reporting(state))

    if state.actions:
        table = Table(title="CAPA actions", title_justify="left", header_style="bold")
        for column in ("id", "kind", "owner", "due", "status", "description"):
            table.add_column(column, overflow="fold")
        for a in state.actions:
            status = f"{a.status}{' OVERDUE' if a.overdue else ''}"
            table.add_row(a.id, a.kind, a.owner, when(a.due_at), status, a.description)
        parts.append(table)

    if state.similar is not None or state.related:
        parts.append(similar_table(state))

    parts.append(messages_text(state))

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
    parts.append(_qmsr_record(state))
    return Group(*parts)


def similar_table(state: ComplaintState) -> Table | Text:
    """Suggestions from intake (to confirm with `reject --duplicate-of` or `link-related`)
    and the links operators confirmed."""
    similar = state.similar
    how = (
        f" ({similar.method} v{similar.method_version}, threshold {similar.threshold:.2f})"
        if similar
        else " (no lookup at intake)"
    )
    table = Table(title=f"similar complaints{how}", title_justify="left", header_style="bold")
    for column in ("complaint", "score", "text", "why", "received", "linked"):
        table.add_column(column)
    linked = {link.complaint_id: link for link in state.related}
    duplicate_of = state.rejection.duplicate_of if state.rejection else None
    for s in similar.suggestions if similar else []:
        why = "same customer, product, lot" if s.same_customer_product_lot else "text"
        mark = "duplicate" if s.complaint_id == duplicate_of else ""
        mark = "related" if s.complaint_id in linked else mark
        table.add_row(
            s.complaint_id, f"{s.score:.2f}", f"{s.text_score:.2f}", why, when(s.received_at), mark
        )
    suggested = {s.complaint_id for s in similar.suggestions} if similar else set()
    for link in state.related:
        if link.complaint_id not in suggested:
            table.add_row(link.complaint_id, "", "", "linked by hand", "", "related")
    if not table.rows:
        return Text(f"similar complaints: none found{how}")
    return table


def messages_text(state: ComplaintState) -> Text:
    """What the complainant was told (ISO 10002 7.4, 7.8): which template, its hash as the
    audit log holds it (unbroken, to compare), and whether the deliverer confirmed it.

    Never the recipient: the address is on the topic only, and a failure reason was
    stripped of addresses when it was recorded. Plain text, not rich markup: a reason such
    as "550 [address] unknown" is shown as it is."""
    title = "Messages to the complainant"
    if state.message_policy is None:
        return Text(f"{title}: none (the case started before messages existed)")
    if not state.messages:
        turned_off = "" if state.message_policy.enabled else " (turned off)"
        return Text(f"{title}: none yet{turned_off}")
    text = Text(f"{title}\n", style="bold")
    for m in state.messages:
        if m.delivered_at is not None:
            delivery = f"delivered {when(m.delivered_at)}"
        elif m.failed_at is not None:
            delivery = f"NOT DELIVERED {when(m.failed_at)}: {m.failure}"
        else:
            delivery = "no delivery report yet"
        text.append(f"{m.purpose.value} {m.sequence}", style="bold")
        text.append(f"  {m.language}  {m.template_id}  produced {when(m.produced_at)}  ")
        text.append(delivery + "\n")
        text.append(f"    content hash {m.content_hash}\n")
    return text


def _reporting(state: ComplaintState) -> Table:
    """The reports to regulators the triage found owed, their clocks and submissions."""
    plan = state.reporting
    assert plan is not None
    title = (
        f"reports to regulators (rules {plan.rules_version}; markets "
        f"{', '.join(plan.markets) or 'none'}; {plan.event_class or 'no event class'}"
        f"{', remedial action' if plan.remedial_action else ''}; aware {when(plan.aware_at)})"
    )
    table = Table(title=title, title_justify="left", header_style="bold")
    for column in ("market", "report", "clock", "due", "submitted"):
        table.add_column(column, overflow="fold")
    for report in plan.required:
        sent = [
            f"{r.reference} ({when(r.submitted_at)})"
            for r in state.regulatory_reports
            if r.market is report.market and r.kind is report.kind
        ]
        table.add_row(
            report.market,
            f"{report.title}\n{report.legal_basis}",
            report.clock,
            when(report.due_at),
            ", ".join(sent) or "MISSING",
        )
    return table


def _qmsr_record(state: ComplaintState) -> Text:
    """The complete complaint record of 21 CFR 820.35(a), item by item (as text, not a
    table: the values are long and read best unbroken)."""
    text = Text("QMSR record (21 CFR 820.35(a))\n", style="bold")
    for item, what, value in record_from_state(state):
        text.append(f"{item} {what}: ", style="bold")
        text.append(value.replace("\n", "; ") + "\n")
    return text


def _optional(value: str | None, prefix: str = "") -> str:
    return f" ({prefix}{value})" if value else ""


def print_screen(renderable: Group) -> None:
    Console(width=120 if not Console().is_terminal else None).print(renderable)
