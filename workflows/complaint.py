"""ComplaintWorkflow: one durable workflow carries one customer complaint to closure.

ISO 10002 asks that every complaint is recorded, acknowledged promptly and tracked to the
end; ISO 9001:2015 10.2 asks that the nonconformity behind it is investigated and corrected.
The workflow id is the complaint id, so a complaint can never have two cases.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.audit import AuditActivities, AuditReceipt, RecordAuditEntry
    from schemas.complaint_state import ComplaintState, ComplaintStatus, HistoryItem
    from schemas.events import ComplaintReceived
    from workflows import search_attributes

SYSTEM_ACTOR = "closeloop"

AUDIT_ACTIVITY_TIMEOUT = timedelta(seconds=30)
# The audit log must never be skipped: keep retrying a database outage with a capped backoff.
AUDIT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)


@workflow.defn
class ComplaintWorkflow:
    """The lifecycle of one complaint, from receipt to closure."""

    def __init__(self) -> None:
        self._state: ComplaintState | None = None

    @workflow.run
    async def run(self, complaint: ComplaintReceived) -> ComplaintState:
        self._state = ComplaintState(
            complaint_id=complaint.complaint_id,
            status=ComplaintStatus.RECEIVED,
            complaint=complaint,
            received_at=workflow.now(),
        )
        await self._record(
            "complaint.received",
            what=f"Complaint received from {complaint.source} via {complaint.channel}",
            actor=complaint.source,
            data={
                "event_id": str(complaint.event_id),
                "source": complaint.source,
                "channel": complaint.channel.value,
                "customer_id": complaint.customer.id,
                "product_sku": complaint.product.sku,
                "product_lot": complaint.product.lot,
                "summary": complaint.summary,
                "received_upstream_at": complaint.occurred_at.isoformat(),
            },
        )
        await self._acknowledge()
        # The later stages (triage onwards) are driven by decisions; until they exist the
        # case waits, acknowledged, and stays visible to operators.
        await workflow.wait_condition(lambda: self.state.status is ComplaintStatus.CLOSED)
        return self.state

    @workflow.query
    def current_state(self) -> ComplaintState:
        return self.state

    @property
    def state(self) -> ComplaintState:
        assert self._state is not None, "the workflow has not started"
        return self._state

    async def _acknowledge(self) -> None:
        """ISO 10002 7.3: tell the complainant promptly that the complaint was received."""
        channel = self.state.complaint.channel.value
        await self._record(
            "complaint.acknowledged",
            what=f"Acknowledgment sent to the customer via {channel}",
            actor=SYSTEM_ACTOR,
            data={"channel": channel, "customer_id": self.state.complaint.customer.id},
            status=ComplaintStatus.ACKNOWLEDGED,
        )
        self.state.acknowledged_at = workflow.now()

    async def _record(
        self,
        entry_type: str,
        *,
        what: str,
        actor: str,
        data: dict[str, object],
        status: ComplaintStatus | None = None,
        reason: str = "",
    ) -> AuditReceipt:
        """Write the audit entry first; only then does the state (and the UI) move on."""
        receipt = await workflow.execute_activity_method(
            AuditActivities.record_audit_entry,
            RecordAuditEntry(
                complaint_id=self.state.complaint_id,
                entry_type=entry_type,
                actor=actor,
                occurred_at=workflow.now(),
                idempotency_key=f"{self.state.complaint_id}:{entry_type}",
                reason=reason,
                data=data,
            ),
            start_to_close_timeout=AUDIT_ACTIVITY_TIMEOUT,
            retry_policy=AUDIT_RETRY,
        )
        if status is not None:
            self.state.status = status
            workflow.upsert_search_attributes([search_attributes.STATUS.value_set(status.value)])
        self.state.history.append(
            HistoryItem(
                at=workflow.now(),
                status=self.state.status,
                what=what,
                actor=actor,
                audit_seq=receipt.seq,
            )
        )
        return receipt
