"""The complaint record 21 CFR 820.35(a) asks for (QMSR, in force since 2026-02-02), and
where each item lives in Closeloop.

820.35(a) adds to ISO 13485 8.2.2 that complaint records hold: (1) the name of the device;
(2) the date the complaint was received; (3) any UDI or UPC and any other device
identification and control numbers; (4) the name, address and phone number of the
complainant; (5) the nature and details of the complaint; (6) the dates and results of
the investigation; (7) any corrective action taken; (8) any reply to the complainant.
Items 1-5 come with the complaint (`complaints.received.v1`), 6-8 are decisions the case
records. `record_from_state` lays the complete record out for `complaint show`;
`receipt_data` is what the audit log keeps of items 1-5 at receipt, with the complainant's
personal data as a digest only (audit data never holds personal data).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from schemas.complaint_state import CapaAction, ComplaintState
from schemas.events import ComplaintReceived, Customer


@dataclass(frozen=True)
class Requirement:
    item: str
    what: str
    fields: str  # where Closeloop holds it


REQUIREMENTS: tuple[Requirement, ...] = (
    Requirement("820.35(a)(1)", "name of the device", "product.name (and product.sku)"),
    Requirement(
        "820.35(a)(2)",
        "date the complaint was received",
        "occurred_at (received upstream); the case's received_at",
    ),
    Requirement(
        "820.35(a)(3)",
        "UDI or UPC, other device identification, control numbers",
        "product.udi, product.udi_di, product.udi_pi, product.upc, product.sku, "
        "product.lot, product.serial",
    ),
    Requirement(
        "820.35(a)(4)",
        "name, address and phone number of the complainant",
        "customer.name, customer.address, customer.phone (and customer.email)",
    ),
    Requirement(
        "820.35(a)(5)",
        "nature and details of the complaint",
        "summary, description, event_occurred_at, channel",
    ),
    Requirement(
        "820.35(a)(6)",
        "dates and results of the investigation",
        "the investigate decisions (or the documented decision not to investigate)",
    ),
    Requirement(
        "820.35(a)(7)", "any corrective action taken", "the CAPA actions and their evidence"
    ),
    Requirement(
        "820.35(a)(8)",
        "any reply to the complainant",
        "the acknowledgment and the close decision's customer response",
    ),
)


def complainant_digest(customer: Customer) -> str:
    """SHA-256 of the complainant's name and contact as canonical JSON: lets an auditor
    check the record held in the CRM against the audit log without the log holding it. A
    digest, not a pseudonym: anyone who knows the data can recompute it."""
    document = customer.model_dump(mode="json", include={"name", "email", "phone", "address"})
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def device_identification(complaint: ComplaintReceived) -> dict[str, str]:
    product = complaint.product.model_dump(exclude_none=True)
    return {k: v for k, v in product.items() if k != "name"}


def receipt_data(complaint: ComplaintReceived) -> dict[str, Any]:
    """The QMSR items 1-5 as the audit log keeps them at receipt (no personal data)."""
    return {
        "qmsr": {
            "device_name": complaint.product.name,
            "device": device_identification(complaint),
            "received_upstream_at": complaint.occurred_at.isoformat(),
            "complainant_digest": complainant_digest(complaint.customer),
            "event_occurred_at": (
                complaint.event_occurred_at.isoformat() if complaint.event_occurred_at else None
            ),
        }
    }


def _action_status(action: CapaAction) -> str:
    if action.completed is None:
        return str(action.status)
    return f"done {action.completed.at:%Y-%m-%d}, evidence {', '.join(action.evidence)}"


def record_from_state(state: ComplaintState) -> list[tuple[str, str, str]]:
    """(item, what it is, the value on this complaint), in the order of 820.35(a); "not
    recorded" where the case holds nothing yet."""
    complaint, customer = state.complaint, state.complaint.customer
    device = ", ".join(f"{k} {v}" for k, v in device_identification(complaint).items())
    contact = "; ".join(
        v for v in (customer.name, customer.address, customer.phone, customer.email) if v
    )
    nature = complaint.summary + (f" — {complaint.description}" if complaint.description else "")
    if complaint.event_occurred_at:
        nature += f" (event {complaint.event_occurred_at:%Y-%m-%d %H:%M %Z})"
    investigations = [
        f"{i.at:%Y-%m-%d}: {'; '.join(i.root_causes)}" + ("" if i.final else " (preliminary)")
        for i in state.investigations
    ] + [f"{d.at:%Y-%m-%d}: not investigated: {d.reason}" for d in state.investigation_declined]
    actions = [
        f"{a.id} {a.kind}: {a.description} ({a.status}"
        + (
            f", done {a.completed.at:%Y-%m-%d}, evidence {', '.join(a.evidence)}"
            if a.completed
            else ""
        )
        + ")"
        for a in state.actions
    ]
    replies = []
    if state.acknowledgment:
        ack = state.acknowledgment
        replies.append(f"{ack.at:%Y-%m-%d} acknowledgment via {ack.channel}")
    if state.closure:
        replies.append(f"{state.closure.at:%Y-%m-%d} response: {state.closure.customer_response}")
    values = (
        complaint.product.name or complaint.product.sku,
        f"{complaint.occurred_at:%Y-%m-%d %H:%M %Z} upstream; case opened "
        f"{state.received_at:%Y-%m-%d %H:%M} UTC",
        device,
        contact,
        nature,
        "\n".join(investigations),
        "\n".join(actions),
        "\n".join(replies),
    )
    return [
        (r.item, r.what, value or "not recorded")
        for r, value in zip(REQUIREMENTS, values, strict=True)
    ]
