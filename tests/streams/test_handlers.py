"""The per-message handlers never raise: every message is either applied (workflow started,
follow-up delivered) or dead-lettered with a field, a reason and its original bytes.

Unit level: a recording dead-letter sink and targets that answer as told stand in for Kafka
and Temporal (the end-to-end tests use the real ones)."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas import topics
from schemas.dead_letter import DeadLetterKind
from streams.dedupe import RecentEvents
from streams.intake import handle_received
from streams.messages import Outcome
from streams.routing import Delivered, Delivery
from streams.updates import handle_update
from tests.schemas.mutations import SECRET, arbitrary_bytes, examples, near_valid_bytes
from tests.streams.doubles import FakeIntake, FakeRouter, Message, RecordingDeadLetters

FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def run(coroutine):
    return asyncio.run(coroutine)


def key_of(raw: bytes) -> bytes | None:
    try:
        document = json.loads(raw)
    except ValueError:
        return b"SOME-KEY"
    complaint_id = document.get("complaint_id") if isinstance(document, dict) else None
    return complaint_id.encode("utf-8", "surrogatepass") if isinstance(complaint_id, str) else None


def assert_dead_letter_keeps_everything(letters: RecordingDeadLetters, message: Message) -> None:
    [letter] = letters.letters
    assert letter.reason and letter.field
    assert SECRET not in letter.reason
    assert base64.b64decode(letter.value_base64) == (message.value or b"")
    assert letter.value_size == len(message.value or b"") and not letter.value_truncated
    assert letter.original_key() == message.key
    assert (letter.source_topic, letter.partition, letter.offset) == (
        message.topic,
        message.partition,
        message.offset,
    )


@FUZZ
@given(
    raw=arbitrary_bytes | near_valid_bytes(topics.COMPLAINTS_RECEIVED), offset=st.integers(0, 10**9)
)
@pytest.mark.clause("ISO 10002:2018 7.2", "21 CFR 11.10(h)")
def test_intake_handler_starts_or_dead_letters_every_message(raw: bytes, offset: int) -> None:
    message = Message(topics.COMPLAINTS_RECEIVED, raw, key_of(raw), partition=2, offset=offset)
    target, letters = FakeIntake(), RecordingDeadLetters()
    outcome = run(handle_received(message, target, letters))
    if outcome is Outcome.STARTED:
        assert not letters.letters and len(target.started) == 1
    else:
        assert outcome is Outcome.DEAD_LETTERED and not target.started
        assert_dead_letter_keeps_everything(letters, message)
        assert letters.letters[0].kind is DeadLetterKind.INVALID


@FUZZ
@given(
    raw=arbitrary_bytes | near_valid_bytes(topics.COMPLAINTS_UPDATES), offset=st.integers(0, 10**9)
)
def test_update_handler_applies_or_dead_letters_every_message(raw: bytes, offset: int) -> None:
    message = Message(topics.COMPLAINTS_UPDATES, raw, key_of(raw), partition=1, offset=offset)
    router, letters = FakeRouter(), RecordingDeadLetters()
    outcome = run(handle_update(message, router, letters, unknown_complaint_wait=0))
    if outcome is Outcome.APPLIED:
        assert not letters.letters and len(router.delivered) == 1
    else:
        assert outcome is Outcome.DEAD_LETTERED and not router.delivered
        assert_dead_letter_keeps_everything(letters, message)


def received(complaint_id: str = "C-1", event_id: str | None = None) -> Message:
    document = examples(topics.COMPLAINTS_RECEIVED)[0] | {
        "complaint_id": complaint_id,
        "event_id": event_id or str(uuid.uuid4()),
    }
    return Message(topics.COMPLAINTS_RECEIVED, json.dumps(document).encode(), complaint_id.encode())


def update(complaint_id: str = "C-1", event_id: str | None = None, example: int = 0) -> Message:
    document = examples(topics.COMPLAINTS_UPDATES)[example] | {
        "complaint_id": complaint_id,
        "event_id": event_id or str(uuid.uuid4()),
    }
    return Message(topics.COMPLAINTS_UPDATES, json.dumps(document).encode(), complaint_id.encode())


def test_unexpected_errors_become_internal_dead_letters_with_the_bytes() -> None:
    letters = RecordingDeadLetters()
    message = received()
    outcome = run(handle_received(message, FakeIntake(fail_with=KeyError("boom")), letters))
    assert outcome is Outcome.DEAD_LETTERED
    [letter] = letters.letters
    assert letter.kind is DeadLetterKind.INTERNAL
    assert letter.original_value() == message.value
    assert letter.complaint_id == "C-1" and letter.event_id

    class Exploding(FakeRouter):
        async def deliver(self, event):
            raise ZeroDivisionError

    letters = RecordingDeadLetters()
    outcome = run(handle_update(update(), Exploding(), letters))
    assert outcome is Outcome.DEAD_LETTERED
    assert letters.letters[0].kind is DeadLetterKind.INTERNAL
    assert letters.letters[0].reason.startswith("internal error: ZeroDivisionError")


def test_a_refusal_is_dead_lettered_with_the_workflows_reason() -> None:
    reason = "workflow refused it: complaint C-1 is acknowledged; verify is not allowed"
    router = FakeRouter(answers=[Delivery(Delivered.REFUSED, reason)])
    letters = RecordingDeadLetters()
    message = update(example=0)
    assert run(handle_update(message, router, letters)) is Outcome.DEAD_LETTERED
    [letter] = letters.letters
    assert letter.kind is DeadLetterKind.REFUSED
    assert reason in letter.reason
    document = json.loads(message.value or b"")
    assert letter.reason.startswith(document["event_type"])
    assert letter.event_id == document["event_id"]


def test_a_follow_up_waits_for_its_complaint_then_applies() -> None:
    unknown = Delivery(Delivered.UNKNOWN, "no complaint with this id")
    router = FakeRouter(answers=[unknown, unknown, Delivery(Delivered.APPLIED)])
    letters = RecordingDeadLetters()
    outcome = run(handle_update(update(), router, letters, unknown_complaint_wait=5))
    assert outcome is Outcome.APPLIED and router.calls == 3 and not letters.letters


def test_a_follow_up_for_an_unknown_complaint_is_dead_lettered_after_the_wait() -> None:
    router = FakeRouter(answers=[Delivery(Delivered.UNKNOWN, "no complaint with this id")])
    letters = RecordingDeadLetters()
    outcome = run(handle_update(update(), router, letters, unknown_complaint_wait=0.3))
    assert outcome is Outcome.DEAD_LETTERED and router.calls >= 2
    [letter] = letters.letters
    assert letter.kind is DeadLetterKind.UNKNOWN_COMPLAINT
    assert letter.field == "$.complaint_id"
    assert "after waiting 0.3 s" in letter.reason


@pytest.mark.clause("ISO 10002:2018 7.2")
def test_an_exact_redelivery_has_no_second_effect() -> None:
    recent = RecentEvents(100)
    target, router, letters = FakeIntake(), FakeRouter(), RecordingDeadLetters()
    first = received("C-9", event_id=str(uuid.uuid4()))
    assert run(handle_received(first, target, letters, recent)) is Outcome.STARTED
    assert run(handle_received(first, target, letters, recent)) is Outcome.DUPLICATE
    # A different intake event for the same complaint: the workflow id catches it.
    assert run(handle_received(received("C-9"), target, letters, recent)) is Outcome.DUPLICATE
    follow_up = update("C-9", event_id=str(uuid.uuid4()))
    assert run(handle_update(follow_up, router, letters, recent)) is Outcome.APPLIED
    assert run(handle_update(follow_up, router, letters, recent)) is Outcome.DUPLICATE
    assert len(router.delivered) == 1 and not letters.letters


def test_dead_letters_are_not_remembered_so_a_replay_is_processed_again() -> None:
    recent = RecentEvents(100)
    letters = RecordingDeadLetters()
    message = update("C-2", event_id=str(uuid.uuid4()))
    refusing = FakeRouter(answers=[Delivery(Delivered.REFUSED, "not now")])
    assert run(handle_update(message, refusing, letters, recent)) is Outcome.DEAD_LETTERED
    assert run(handle_update(message, FakeRouter(), letters, recent)) is Outcome.APPLIED


def test_recent_events_forgets_the_oldest() -> None:
    recent = RecentEvents(2)
    for name in ("a", "b", "c"):
        recent.remember(("t", name))
    assert ("t", "a") not in recent and ("t", "b") in recent and ("t", "c") in recent
    assert len(recent) == 2


@pytest.mark.parametrize("size", [600 * 1024 + 1, 2 * 1024 * 1024])
def test_an_oversized_value_is_dead_lettered_and_kept_as_far_as_fits(size: int) -> None:
    letters = RecordingDeadLetters()
    message = Message(topics.COMPLAINTS_RECEIVED, b"{" + b" " * (size - 1), b"C-1", offset=7)
    assert run(handle_received(message, FakeIntake(), letters)) is Outcome.DEAD_LETTERED
    [letter] = letters.letters
    assert letter.reason.startswith(f"event is {size} bytes")
    assert letter.value_truncated and letter.value_size == size
    assert (message.value or b"").startswith(letter.original_value())
