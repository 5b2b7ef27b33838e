"""A rejected complaint is told the decision (ISO 10002 7.8): one `rejection` message, in the
complaint's language, audited with its hash and template id, published once; a duplicate
names the earlier complaint; the internal explanation never reaches the complainant; no
survey follows. Runs that rejected before this message existed replay without it."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from activities.templates import load
from schemas.complaint_state import ComplaintStatus
from schemas.customer_message import MessagePolicy, MessagePurpose, content_hash
from schemas.decisions import Decision, RejectReason
from workflows.capa import CapaActionWorkflow
from workflows.complaint import ComplaintWorkflow

HISTORIES = Path(__file__).parent / "histories"
# Recorded with the code from before the rejection message (a rejected duplicate, messages
# on, in German): never re-record it, it is what a run from before looks like.
BEFORE = HISTORIES / "complaint-rejected-with-messages.json"
EXPLANATION = "Internal: the caller is a reseller testing our hotline"
TOLD = "Please write to your retailer, who handles warranty questions for this kettle."


@pytest.fixture
def message_policy() -> MessagePolicy:
    return MessagePolicy(language="de")


async def told(harness, handle, count: int):
    """The messages published for the complaint once its workflow has ended."""
    await harness.wait_for(handle, lambda s: len(s.messages) >= count)
    final = await harness.result(handle)
    assert final.status is ComplaintStatus.REJECTED
    return final, harness.messages.for_complaint(handle.id)


@pytest.mark.clause("ISO 10002:2018 7.8")
async def test_a_rejected_complaint_gets_exactly_one_rejection_message_audited_and_published(
    harness, make
):
    handle = await harness.start()
    await harness.wait_for(handle, lambda s: len(s.messages) >= 1)
    await harness.decide(
        handle, Decision.REJECT, make.reject(explanation=EXPLANATION, customer_response=TOLD)
    )
    final, sent = await told(harness, handle, 2)

    assert [m.purpose for m in sent] == [MessagePurpose.ACKNOWLEDGMENT, MessagePurpose.REJECTION]
    rejection = sent[1]
    assert rejection.message_id == f"{handle.id}:rejection:1"
    assert rejection.language == "de"
    assert rejection.template_id == load(MessagePurpose.REJECTION, "de").template_id
    assert rejection.template_id.startswith("rejection/de@")
    assert rejection.content_hash == content_hash(rejection.subject, rejection.body)
    assert handle.id in rejection.subject
    assert "nicht als Reklamation" in rejection.body and TOLD in rejection.body
    assert EXPLANATION not in rejection.body  # the reason is for the record only
    assert final.rejection is not None and final.rejection.customer_response == TOLD

    produced = [
        e for e in harness.entries(handle.id) if e.entry_type == "complaint.message_produced"
    ]
    assert [e.data["purpose"] for e in produced] == ["acknowledgment", "rejection"]
    entry = produced[1]
    assert entry.data["message_id"] == rejection.message_id
    assert entry.data["content_hash"] == rejection.content_hash
    assert entry.data["template_id"] == rejection.template_id
    assert entry.data["language"] == "de"
    assert "ada@example.com" not in json.dumps(entry.data)
    [record] = [m for m in final.messages if m.purpose is MessagePurpose.REJECTION]
    assert record.content_hash == rejection.content_hash


@pytest.mark.clause("ISO 10002:2018 7.8")
async def test_a_duplicate_rejection_names_the_earlier_complaint_and_no_survey_follows(
    harness, make
):
    original = await harness.start()
    handle = await harness.start()
    await harness.wait_for(handle, lambda s: len(s.messages) >= 1)
    await harness.decide(
        handle,
        Decision.REJECT,
        make.reject(
            reason=RejectReason.DUPLICATE, duplicate_of=original.id, explanation=EXPLANATION
        ),
    )
    _, sent = await told(harness, handle, 2)

    assert [m.message_id for m in sent] == [
        f"{handle.id}:acknowledgment:1",
        f"{handle.id}:rejection:1",
    ]  # once each, and no survey invitation after a rejection
    body = sent[1].body
    assert f"Duplikat Ihrer früheren Reklamation {original.id}" in body
    assert EXPLANATION not in body
    assert "\n\n\n" not in body  # no customer response: the decision stands alone
    await harness.record(handle, "complaint-rejected-told-the-decision")


@pytest.mark.clause("ISO 10002:2018 7.8")
@pytest.mark.parametrize("message_policy", [MessagePolicy(language="fr")])
async def test_english_is_the_fallback_for_a_language_without_a_rejection_template(harness, make):
    handle = await harness.start()
    await harness.wait_for(handle, lambda s: len(s.messages) >= 1)
    await harness.decide(handle, Decision.REJECT, make.reject())
    _, sent = await told(harness, handle, 2)
    assert sent[1].language == "en" and sent[1].template_id.startswith("rejection/en@")
    assert "will not handle it as a complaint" in sent[1].body


async def test_a_run_rejected_before_the_rejection_message_replays_without_it():
    history = WorkflowHistory.from_json(BEFORE.stem, BEFORE.read_text(encoding="utf-8"))
    payloads = _payload_texts(BEFORE)
    assert any('"reject"' in text or "Rejected as a duplicate" in text for text in payloads)
    assert any("acknowledgment:1" in text for text in payloads)  # messages were on
    assert not any(":rejection:" in text for text in payloads)

    replayer = Replayer(
        workflows=[ComplaintWorkflow, CapaActionWorkflow], data_converter=pydantic_data_converter
    )
    result = await replayer.replay_workflow(history)
    assert result.replay_failure is None


def _payload_texts(path: Path) -> list[str]:
    """Every payload in the history, decoded: what the run recorded and sent."""
    texts: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            data = value.get("data")
            if isinstance(data, str) and "metadata" in value:
                texts.append(base64.b64decode(data).decode("utf-8", "replace"))
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(json.loads(path.read_text(encoding="utf-8")))
    return texts
