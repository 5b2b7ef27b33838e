"""Telling the complainant (ISO 10002 7.3, 7.7, 8.3): which message is due, and sending it once.

Each message follows from a fact in the complaint's state: the acknowledgment from the
acknowledgment, a request for information from the `request_information` decision, the
decision and response from the closure, the survey invitation from the closure too, the
decision to reject from the rejection (ISO 10002 7.8; no survey follows a rejection: the
survey asks how the complaint was handled, and a rejected one was not; a duplicate's
complainant is asked when the earlier complaint closes).
`due_messages` is a pure function of the state, so what is owed is always recomputed, never
remembered twice; a message is owed until the state records it. For each,
the workflow renders it (an activity), audits it with its content hash and template id
(never the address), then publishes it on `complaints.customer-messages.v1`. Its id is
`{complaint_id}:{purpose}:{sequence}`, so a retry can never make a second message.

Delivery reports (`message.delivered`, `message.failed`) are audited; an acknowledgment that
failed, or that nobody confirmed within `confirm_acknowledgment_within`, escalates as the
missed deadline `acknowledgment_delivery` (`workflows/escalation.py` does the escalating).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.customer_messages import MessageActivities
    from schemas.complaint_state import ComplaintState, ComplaintStatus, SignatureMeaning
    from schemas.customer_message import (
        CustomerMessage,
        MessagePolicy,
        MessagePurpose,
        MessageRecord,
        Recipient,
        RenderedMessage,
        RenderRequest,
        message_id,
    )
    from schemas.decisions import DeadlineStage, MessageDeliveryInput

from workflows import deadlines
from workflows.case_file import CaseFile, Entry
from workflows.retries import (
    POLICY_ACTIVITY_TIMEOUT,
    PUBLISH_ACTIVITY_TIMEOUT,
    PUBLISH_RETRY,
    SYSTEM_ACTOR,
    run_activity,
)

# Runs started before messages to the complainant existed replay without them.
CUSTOMER_MESSAGES = "customer-messages"
# Runs that rejected a complaint before the rejection message existed replay without it;
# decided when a rejection message is first due, so a run from before that rejects later
# tells the complainant too.
REJECTION_MESSAGE = "rejection-message"

PURPOSE_LABELS = {
    MessagePurpose.ACKNOWLEDGMENT: "acknowledgment",
    MessagePurpose.INFORMATION_REQUEST: "request for information",
    MessagePurpose.RESPONSE: "decision and response",
    MessagePurpose.REJECTION: "decision to reject",
    MessagePurpose.SURVEY_INVITATION: "satisfaction survey invitation",
}
# A deliverer's reason may quote the address ("550 <ada@example.com> unknown"): never audited.
ADDRESS = re.compile(r"[^@\s<>\"']+@[^@\s<>\"']+")


@dataclass(frozen=True)
class Due:
    purpose: MessagePurpose
    sequence: int
    text: str = ""
    duplicate_of: str | None = None


def due_messages(state: ComplaintState) -> list[Due]:
    """The messages the state owes the complainant and has not produced yet, in order."""
    policy = state.message_policy
    if policy is None or not policy.enabled:
        return []
    owed: list[Due] = []
    if state.acknowledgment is not None:
        owed.append(Due(MessagePurpose.ACKNOWLEDGMENT, 1))
    for number, asked in enumerate(state.information_requests, start=1):
        owed.append(Due(MessagePurpose.INFORMATION_REQUEST, number, asked.question))
    if state.status is ComplaintStatus.CLOSED and state.closure is not None:
        closing = state.closure.loop + 1  # a reopened complaint is answered again
        owed.append(Due(MessagePurpose.RESPONSE, closing, state.closure.customer_response))
        owed.append(Due(MessagePurpose.SURVEY_INVITATION, closing))
    if state.status is ComplaintStatus.REJECTED and state.rejection is not None:
        rejection = state.rejection  # terminal: a complaint is rejected once at most
        text = rejection.customer_response or ""  # never the explanation: it is internal
        owed.append(Due(MessagePurpose.REJECTION, 1, text, rejection.duplicate_of))
    produced = {(m.purpose, m.sequence) for m in state.messages}
    return [due for due in owed if (due.purpose, due.sequence) not in produced]


async def load_policy() -> MessagePolicy:
    """The worker's message policy, read once when a complaint starts (a local activity)."""
    policy: MessagePolicy = await workflow.execute_local_activity_method(
        MessageActivities.load_message_policy, start_to_close_timeout=POLICY_ACTIVITY_TIMEOUT
    )
    return policy


def redact_addresses(text: str) -> str:
    return ADDRESS.sub("[address]", text)


class Correspondent:
    """Produces what `due_messages` owes, one at a time, after every change of the case."""

    def __init__(self, case: CaseFile) -> None:
        self._case = case
        self._closing = False
        self._seen = -1  # the case version whose debts were last produced

    def close(self) -> None:
        """Finish what is owed, then stop (before the run completes or continues as new)."""
        self._closing = True

    async def correspond(self) -> None:
        policy = self._case.state.message_policy
        if policy is None or not policy.enabled:  # nothing to send: stay out of every wake-up
            await workflow.wait_condition(lambda: self._closing)
            return
        self._seen = -1
        while True:
            await workflow.wait_condition(lambda: self._case.version != self._seen or self._closing)
            self._seen = self._case.version
            owed = [due for due in due_messages(self._case.state) if _may_produce(due)]
            if not owed and self._closing:
                return
            for due in owed:
                await self._produce(due)

    async def _produce(self, due: Due) -> None:
        case = self._case
        state, local = case.state, case.local_activities
        complaint, policy = state.complaint, state.message_policy
        assert policy is not None
        code = None
        if due.purpose is MessagePurpose.SURVEY_INVITATION:
            code = await run_activity(
                MessageActivities.new_survey_code,
                complaint.complaint_id,
                start_to_close=POLICY_ACTIVITY_TIMEOUT,
                retry=PUBLISH_RETRY,
                local=local,
            )
        rendered: RenderedMessage = await run_activity(
            MessageActivities.render_customer_message,
            RenderRequest(
                complaint_id=complaint.complaint_id,
                purpose=due.purpose,
                sequence=due.sequence,
                language=policy.language,
                customer_name=complaint.customer.name,
                summary=complaint.summary,
                text=due.text,
                duplicate_of=due.duplicate_of,
                survey_code=code,
                survey_url=policy.survey_url,
            ),
            start_to_close=POLICY_ACTIVITY_TIMEOUT,
            retry=PUBLISH_RETRY,  # a broken template is fixed and deployed, never skipped
            local=local,
        )
        now = workflow.now()
        record = MessageRecord(
            message_id=message_id(complaint.complaint_id, due.purpose, due.sequence),
            purpose=due.purpose,
            sequence=due.sequence,
            template_id=rendered.template_id,
            language=rendered.language,
            content_hash=rendered.content_hash,
            produced_at=now,
        )
        async with case.lock:
            candidate = case.draft()
            candidate.messages.append(record)
            within = policy.confirm_acknowledgment_within
            if due.purpose is MessagePurpose.ACKNOWLEDGMENT and within is not None:
                deadlines.open_deadline(
                    candidate,
                    DeadlineStage.ACKNOWLEDGMENT_DELIVERY,
                    clock_start=now,
                    due_at=now + within,
                )
            await case.commit(candidate, _produced_entry(record, code), now)
        customer = complaint.customer
        await run_activity(
            MessageActivities.publish_customer_message,
            CustomerMessage(
                message_id=record.message_id,
                occurred_at=now,
                complaint_id=complaint.complaint_id,
                purpose=due.purpose,
                sequence=due.sequence,
                language=rendered.language,
                template_id=rendered.template_id,
                recipient=Recipient(
                    customer_id=customer.id, name=customer.name, email=customer.email
                ),
                subject=rendered.subject,
                body=rendered.body,
                content_hash=rendered.content_hash,
                survey_code=code,
            ),
            start_to_close=PUBLISH_ACTIVITY_TIMEOUT,
            retry=PUBLISH_RETRY,
            local=local,
            summary=f"message {record.message_id}",
        )


def _may_produce(due: Due) -> bool:
    """False for a message this run's history is from before: replayed, it stays unsent.

    `workflow.patched` is memoized per run: the first answer holds for the rest of it."""
    if due.purpose is MessagePurpose.REJECTION:
        return workflow.patched(REJECTION_MESSAGE)
    return True


def _produced_entry(record: MessageRecord, survey_code: str | None) -> Entry:
    data: dict[str, object] = {
        "message_id": record.message_id,
        "purpose": record.purpose.value,
        "sequence": record.sequence,
        "template_id": record.template_id,
        "language": record.language,
        "content_hash": record.content_hash,
    }
    if survey_code is not None:
        # links a later survey.responded (survey_id = the code) to this invitation
        data["survey_code_sha256"] = _sha256(survey_code)
    return Entry(
        entry_type="complaint.message_produced",
        key=f"{record.message_id}:produced",
        actor=SYSTEM_ACTOR,
        what=f"Message to the complainant: {PURPOSE_LABELS[record.purpose]} ({record.template_id})",
        meaning=SignatureMeaning.RECORDED,
        data=data,
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


async def record_delivery(case: CaseFile, report: MessageDeliveryInput) -> None:
    """Audit a delivery report; a failed acknowledgment is escalated at once."""
    known = next((m for m in case.state.messages if m.message_id == report.message_id), None)
    if known is None:
        workflow.logger.warning(
            "delivery report for a message this complaint never produced",
            extra={"message_id": report.message_id, "event_id": report.event_id},
        )
        return
    now = workflow.now()
    candidate = case.draft()
    record = next(m for m in candidate.messages if m.message_id == report.message_id)
    reason = redact_addresses(report.reason)
    stage = DeadlineStage.ACKNOWLEDGMENT_DELIVERY
    is_ack = record.purpose is MessagePurpose.ACKNOWLEDGMENT
    if report.delivered:
        record.delivered_at = report.occurred_at
        if is_ack:
            deadlines.meet(candidate, stage, at=now)
        entry_type, what = "complaint.message_delivered", "delivered"
    else:
        record.failed_at, record.failure = now, reason
        deadline = candidate.active_deadline(stage) if is_ack else None
        if deadline is not None and deadline.escalated_at is None and deadline.due_at > now:
            deadline.due_at = now  # escalated by the deadline keeper, as soon as it wakes
        entry_type, what = "complaint.message_failed", f"not delivered: {reason}"
    label = PURPOSE_LABELS[record.purpose]
    await case.commit(
        candidate,
        Entry(
            entry_type=entry_type,
            key=f"{candidate.complaint_id}:delivery:{report.event_id}",
            actor=report.actor,
            what=f"Message to the complainant ({label}) {what}",
            meaning=SignatureMeaning.RECORDED,
            data={
                "message_id": record.message_id,
                "purpose": record.purpose.value,
                "event_id": report.event_id,
                "delivered": report.delivered,
                "occurred_at": report.occurred_at.isoformat(),
                "reason": reason,
                "permanent": report.permanent,
                "provider_reference": (
                    redact_addresses(report.provider_reference)
                    if report.provider_reference
                    else None
                ),
                "content_hash": record.content_hash,
                "actor": report.actor.model_dump(),
            },
        ),
        now,
    )
