"""Messages to the complainant (ISO 10002 7.3, 7.7, 8.3): each produced by the workflow at its
step, once, audited with its content hash and template id and never the address; delivery
reports audited; an acknowledgment that is not delivered escalates like a missed deadline."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta

import pytest

from activities.templates import load
from schemas.complaint_state import ComplaintStatus
from schemas.customer_message import (
    MessagePolicy,
    MessagePurpose,
    complaint_of_survey_code,
    content_hash,
)
from schemas.decisions import (
    Actor,
    DeadlineStage,
    Decision,
    MessageDeliveryInput,
    ReopenInput,
    ReopenReason,
    RequestInformationInput,
)
from schemas.status_event import StatusEventType
from workflows.complaint import ComplaintWorkflow

MAILER = Actor(id="closeloop-mailer")
CONFIRM_WITHIN = timedelta(hours=6)


@pytest.fixture
def message_policy() -> MessagePolicy:
    return MessagePolicy(
        language="de",
        confirm_acknowledgment_within=CONFIRM_WITHIN,
        survey_url="https://survey.example.com/s?code={code}",
    )


def report(message_id: str, *, delivered: bool, reason: str = "") -> MessageDeliveryInput:
    return MessageDeliveryInput(
        event_id=str(uuid.uuid4()),
        actor=MAILER,
        message_id=message_id,
        delivered=delivered,
        occurred_at="2026-11-20T09:00:00Z",
        reason=reason,
    )


async def close(harness, make, handle):
    await harness.decide(handle, Decision.TRIAGE, make.triage())
    await harness.decide(handle, Decision.INVESTIGATE, make.investigate(capa_needed=False))
    return await harness.decide(handle, Decision.CLOSE, make.close())


async def messages(harness, handle, count: int):
    await harness.wait_for(handle, lambda s: len(s.messages) >= count)
    await harness.quiet(handle.id)
    return harness.messages.for_complaint(handle.id)


@pytest.mark.clause("ISO 10002:2018 7.4", "ISO 9001:2015 8.2.1")
async def test_acknowledgment_is_produced_on_receipt_once_in_the_complaints_language(harness):
    handle = await harness.start()
    (ack,) = await messages(harness, handle, 1)
    assert ack.message_id == f"{handle.id}:acknowledgment:1"
    assert ack.purpose is MessagePurpose.ACKNOWLEDGMENT and ack.language == "de"
    assert ack.template_id == load(MessagePurpose.ACKNOWLEDGMENT, "de").template_id
    assert ack.recipient.email == "ada@example.com" and "Guten Tag Ada Example" in ack.body
    assert handle.id in ack.subject and ack.content_hash == content_hash(ack.subject, ack.body)

    (entry,) = [e for e in harness.entries(handle.id) if e.entry_type.startswith("complaint.mess")]
    assert entry.entry_type == "complaint.message_produced"
    assert entry.data["content_hash"] == ack.content_hash
    assert entry.data["template_id"] == ack.template_id
    assert entry.data["message_id"] == ack.message_id


@pytest.mark.clause("ISO 10002:2018 7.7", "ISO 10002:2018 7.8", "ISO 10002:2018 8.3")
async def test_closure_produces_the_response_then_a_survey_invitation_with_an_unguessable_code(
    harness, make
):
    handle = await harness.start()
    await close(harness, make, handle)
    ack, response, survey = await messages(harness, handle, 3)
    assert [m.purpose for m in (ack, response, survey)] == [
        MessagePurpose.ACKNOWLEDGMENT,
        MessagePurpose.RESPONSE,
        MessagePurpose.SURVEY_INVITATION,
    ]
    assert make.close().customer_response in response.body
    code = survey.survey_code
    assert code is not None and complaint_of_survey_code(code) == handle.id
    assert f"https://survey.example.com/s?code={code}" in survey.body
    produced = [
        e for e in harness.entries(handle.id) if e.entry_type == "complaint.message_produced"
    ]
    assert [e.data["purpose"] for e in produced] == [
        "acknowledgment",
        "response",
        "survey_invitation",
    ]
    assert produced[2].data["survey_code_sha256"] == hashlib.sha256(code.encode()).hexdigest()

    # a second complaint's code shares nothing guessable with this one
    other = await harness.start()
    await close(harness, make, other)
    other_code = (await messages(harness, other, 3))[2].survey_code
    assert other_code is not None and other_code.split("~")[1] != code.split("~")[1]


@pytest.mark.clause("ISO 10002:2018 7.8")
async def test_a_delivered_acknowledgment_is_audited_and_never_escalates(harness):
    handle = await harness.start()
    (ack,) = await messages(harness, handle, 1)
    state = await harness.state(handle)
    assert state.active_deadline(DeadlineStage.ACKNOWLEDGMENT_DELIVERY) is not None

    delivery = report(ack.message_id, delivered=True)
    await handle.signal(ComplaintWorkflow.record_message_delivery, delivery)
    await handle.signal(ComplaintWorkflow.record_message_delivery, delivery)  # redelivered
    state = await harness.wait_for(handle, lambda s: s.messages[0].delivered_at is not None)
    assert state.active_deadline(DeadlineStage.ACKNOWLEDGMENT_DELIVERY) is None
    await harness.skip(CONFIRM_WITHIN * 2)
    state = await harness.state(handle)
    assert state.overdue is False
    assert harness.entry_types(handle.id).count("complaint.message_delivered") == 1
    assert "complaint.escalated" not in harness.entry_types(handle.id)


@pytest.mark.clause("ISO 10002:2018 7.4")
async def test_an_unconfirmed_acknowledgment_escalates_like_a_missed_deadline(harness):
    handle = await harness.start()
    await messages(harness, handle, 1)
    await harness.skip(CONFIRM_WITHIN + timedelta(minutes=1))
    state = await harness.wait_for(handle, lambda s: s.overdue)
    deadline = next(d for d in state.deadlines if d.stage is DeadlineStage.ACKNOWLEDGMENT_DELIVERY)
    assert deadline.escalated_at is not None
    (escalated,) = [e for e in harness.entries(handle.id) if e.entry_type == "complaint.escalated"]
    assert escalated.data["stage"] == "acknowledgment_delivery"
    events = [e for e in harness.events(handle.id) if e.event_type is StatusEventType.ESCALATED]
    assert events and events[-1].escalation.stage == "acknowledgment_delivery"


async def test_a_failed_acknowledgment_escalates_at_once_and_the_address_is_not_audited(harness):
    handle = await harness.start()
    (ack,) = await messages(harness, handle, 1)
    failure = report(ack.message_id, delivered=False, reason="550 <ada@example.com> unknown user")
    await handle.signal(ComplaintWorkflow.record_message_delivery, failure)
    state = await harness.wait_for(handle, lambda s: s.overdue)
    assert state.messages[0].failed_at is not None
    assert "ada@example.com" not in state.messages[0].failure
    types = harness.entry_types(handle.id)
    assert types.index("complaint.message_failed") < types.index("complaint.escalated")


async def test_no_customer_name_or_address_reaches_the_audit_log(harness, make):
    handle = await harness.start()
    await close(harness, make, handle)
    ack = (await messages(harness, handle, 3))[0]
    await handle.signal(
        ComplaintWorkflow.record_message_delivery,
        report(ack.message_id, delivered=False, reason="bounced: Ada Example <ada@example.com>"),
    )
    await harness.wait_for(handle, lambda s: s.messages[0].failed_at is not None)
    audited = json.dumps([e.data for e in harness.entries(handle.id)])
    assert "ada@example.com" not in audited
    assert "Ada Example" not in audited.replace("Ada Example <[address]>", "")


async def test_a_reopened_complaint_is_answered_again_with_the_next_sequence(harness, make):
    handle = await harness.start()
    await close(harness, make, handle)
    ack = (await messages(harness, handle, 3))[0]
    await handle.signal(
        ComplaintWorkflow.record_message_delivery, report(ack.message_id, delivered=True)
    )
    await harness.wait_for(handle, lambda s: s.messages[0].delivered_at is not None)
    await harness.decide(
        handle,
        Decision.REOPEN,
        ReopenInput(actor=make.manager, reason=ReopenReason.RECURRENCE, explanation="Again"),
    )
    await harness.decide(handle, Decision.INVESTIGATE, make.investigate(capa_needed=False))
    await harness.decide(handle, Decision.CLOSE, make.close())
    sent = await messages(harness, handle, 5)
    assert [m.message_id for m in sent] == [
        f"{handle.id}:acknowledgment:1",
        f"{handle.id}:response:1",
        f"{handle.id}:survey_invitation:1",
        f"{handle.id}:response:2",
        f"{handle.id}:survey_invitation:2",
    ]
    await harness.record(handle, "complaint-closed-with-messages")


@pytest.mark.parametrize("message_policy", [MessagePolicy(enabled=False)])
async def test_messages_can_be_turned_off(harness, make):
    handle = await harness.start()
    state = await close(harness, make, handle)
    assert state.status is ComplaintStatus.CLOSED
    await harness.quiet(handle.id)
    assert harness.messages.for_complaint(handle.id) == []
    assert state.active_deadline(DeadlineStage.ACKNOWLEDGMENT_DELIVERY) is None


@pytest.mark.clause("ISO 10002:2018 7.7")
async def test_a_question_to_the_complainant_is_sent_as_an_information_request(harness, make):
    handle = await harness.start()
    await harness.decide(handle, Decision.TRIAGE, make.triage())
    ask = RequestInformationInput(actor=make.handler, question="When did you buy the kettle?")
    state = await harness.decide(handle, Decision.REQUEST_INFORMATION, ask)
    assert state.information_requests[0].question == ask.question
    _, question = await messages(harness, handle, 2)
    assert question.message_id == f"{handle.id}:information_request:1"
    assert ask.question in question.body and question.language == "de"
    assert "complaint.information_requested" in harness.entry_types(handle.id)
