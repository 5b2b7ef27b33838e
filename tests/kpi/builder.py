"""Hand-built audit logs: entries shaped exactly as the workflow writes them.

Shapes follow workflows/receipt.py (received, acknowledged), case_file.decision_entry
(decisions: `input` holds the request), escalation.py and facts.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from audit.models import AuditEntry, NewEntry
from audit.store import AuditLog


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


class LogBuilder:
    def __init__(self, log: AuditLog) -> None:
        self.log = log
        self.count = 0

    def add(
        self, complaint_id: str, entry_type: str, when: datetime, data: dict[str, Any]
    ) -> AuditEntry:
        self.count += 1
        return self.log.append(
            NewEntry(
                complaint_id=complaint_id,
                entry_type=entry_type,
                actor="tester",
                occurred_at=when,
                data=data,
                idempotency_key=f"{complaint_id}:{entry_type}:{self.count}",
            ),
            now=when + timedelta(seconds=1),
        )

    def received(
        self,
        cid: str,
        upstream: datetime,
        *,
        product: str = "mixer",
        channel: str = "web",
        customer: str | None = None,
        ingested: datetime | None = None,
    ) -> int:
        return self.add(cid, "complaint.received", ingested or upstream, {
            "event_id": f"ev-{cid}", "source": "shop", "channel": channel,
            "customer_id": customer or f"cust-{cid}", "product_sku": product,
            "product_lot": None, "summary": "s", "received_upstream_at": upstream.isoformat(),
        }).seq  # fmt: skip

    def decision(self, cid: str, entry_type: str, when: datetime, **given: Any) -> int:
        name = entry_type.split(".", 1)[1]
        return self.add(cid, entry_type, when, {"decision": name, "input": given}).seq

    def acknowledged(self, cid: str, when: datetime) -> int:
        return self.add(cid, "complaint.acknowledged", when, {"channel": "web"}).seq

    def triaged(self, cid: str, when: datetime, category: str, severity: str = "low") -> int:
        return self.decision(cid, "complaint.triaged", when, category=category, severity=severity)

    def closed(self, cid: str, when: datetime) -> int:
        return self.decision(cid, "complaint.closed", when, customer_response="done")

    def rejected(self, cid: str, when: datetime) -> int:
        return self.decision(cid, "complaint.rejected", when, reason="duplicate")

    def reopened(self, cid: str, when: datetime) -> int:
        return self.decision(cid, "complaint.reopened", when, reason="recurrence")

    def escalated(self, cid: str, when: datetime, stage: str) -> int:
        return self.add(cid, "complaint.escalated", when, {"stage": stage, "loop": 0}).seq

    def survey(self, cid: str, when: datetime, csat: int | None, nps: int | None) -> int:
        given = {k: v for k, v in (("csat", csat), ("nps", nps)) if v is not None}
        return self.decision(cid, "complaint.survey", when, **given)

    def activity(self, cid: str, when: datetime) -> int:
        return self.add(cid, "complaint.customer_activity", when, {
            "event_id": f"act-{self.count}", "activity": "purchase",
            "occurred_at": when.isoformat(), "actor": {"id": "crm", "name": ""},
        }).seq  # fmt: skip

    def shipment(self, product: str, period: str, units: int) -> int:
        return self.add("operations", "operations.shipment", at(f"{period}-28"), {
            "event_id": f"ship-{self.count}", "product": product, "period": period,
            "units": units,
        }).seq  # fmt: skip
