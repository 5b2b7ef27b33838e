"""Receipt and the automatic acknowledgment (ISO 10002 7.2 and 7.3)."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.complaint_state import Signed
    from schemas.decisions import AcknowledgeInput, Actor, DeadlineStage, Decision
    from schemas.qmsr import receipt_data
    from schemas.similarity import SimilarityResult

from workflows import deadlines
from workflows.case_file import CaseFile, Entry
from workflows.judgment import LOGIC
from workflows.retries import SYSTEM_ACTOR


async def receive(case: CaseFile, similar: SimilarityResult | None = None) -> None:
    """Record the complaint as received and start the acknowledge and triage clocks;
    `similar`: what the lookup suggested, shown with the case and kept in the entry."""
    complaint, now = case.state.complaint, workflow.now()
    candidate = case.draft()
    candidate.similar = similar
    policy, received_at = candidate.policy, candidate.received_at
    deadlines.open_deadline(
        candidate,
        DeadlineStage.ACKNOWLEDGE,
        clock_start=received_at,
        due_at=received_at + policy.acknowledge,
    )
    deadlines.open_deadline(
        candidate, DeadlineStage.TRIAGE, clock_start=received_at, due_at=received_at + policy.triage
    )
    await case.commit(
        candidate,
        Entry(
            entry_type="complaint.received",
            key=f"{complaint.complaint_id}:complaint.received",
            actor=Actor(id=complaint.source),
            what=f"Complaint received from {complaint.source} via {complaint.channel}",
            data={
                "event_id": str(complaint.event_id),
                "source": complaint.source,
                "channel": complaint.channel.value,
                "customer_id": complaint.customer.id,
                "product_sku": complaint.product.sku,
                "product_lot": complaint.product.lot,
                "summary": complaint.summary,
                "received_upstream_at": complaint.occurred_at.isoformat(),
                **receipt_data(complaint),  # 21 CFR 820.35(a) items 1-5, no personal data
            }
            | ({"similar": similar.model_dump(mode="json")} if similar is not None else {}),
        ),
        now,
    )


async def acknowledge_on_receipt(case: CaseFile) -> None:
    """Tell the complainant promptly that the complaint was received."""
    now, complaint = workflow.now(), case.state.complaint
    request = AcknowledgeInput(
        actor=SYSTEM_ACTOR, channel=complaint.channel, message="automatic acknowledgment of receipt"
    )
    candidate = case.draft()
    what = LOGIC[Decision.ACKNOWLEDGE].apply(candidate, request, Signed(by=SYSTEM_ACTOR, at=now))
    await case.commit(
        candidate,
        Entry(
            entry_type="complaint.acknowledged",
            key=f"{complaint.complaint_id}:complaint.acknowledged",
            actor=SYSTEM_ACTOR,
            what=what,
            decision=Decision.ACKNOWLEDGE.value,
            data={"channel": complaint.channel.value, "customer_id": complaint.customer.id},
        ),
        now,
    )
