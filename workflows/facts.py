"""Customer activity, a fact that arrives by signal (for retention), recorded like any other."""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from schemas.complaint_state import CustomerActivity, SignatureMeaning
    from schemas.decisions import CustomerActivityInput

from workflows.case_file import CaseFile, Entry

RECENT_ACTIVITY_KEPT = 20


async def record_customer_activity(case: CaseFile, activity: CustomerActivityInput) -> None:
    now = workflow.now()
    candidate = case.draft()
    candidate.customer_activity_count += 1
    candidate.customer_activity.append(
        CustomerActivity(
            event_id=activity.event_id,
            activity=activity.activity,
            occurred_at=activity.occurred_at,
            recorded_at=now,
        )
    )
    del candidate.customer_activity[:-RECENT_ACTIVITY_KEPT]
    await case.commit(
        candidate,
        Entry(
            entry_type="complaint.customer_activity",
            key=f"{candidate.complaint_id}:activity:{activity.event_id}",
            actor=activity.actor,
            what=f"Customer activity: {activity.activity}",
            meaning=SignatureMeaning.RECORDED,
            comment=activity.comment,
            data={
                "event_id": activity.event_id,
                "activity": activity.activity,
                "occurred_at": activity.occurred_at.isoformat(),
                "actor": activity.actor.model_dump(),
            },
        ),
        now,
    )
