"""Ingestion end to end on the real stack: Tansu, the Temporal dev server, `closeloop worker`
and `closeloop stream` as separate processes (see conftest.py). Counts are exact: workflows
in Temporal, entries in the audit log, letters on complaints.dlq.v1.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from schemas import topics
from schemas.contract import examples_dir
from schemas.dead_letter import DeadLetter, DeadLetterKind
from tests.streams.conftest import (
    UNKNOWN_COMPLAINT_WAIT_S,
    IngestionStack,
    eventually,
    until_complete,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]


def _example(topic: str, name: str) -> dict[str, Any]:
    return json.loads((examples_dir(topic) / f"{name}.json").read_text(encoding="utf-8"))


def received(complaint_id: str) -> dict[str, Any]:
    event = _example(topics.COMPLAINTS_RECEIVED, "web-shop")
    event.update(
        event_id=str(uuid.uuid4()),
        complaint_id=complaint_id,
        occurred_at=datetime.now(UTC).isoformat(),
    )
    return event


def follow_up(name: str, complaint_id: str) -> dict[str, Any]:
    event = _example(topics.COMPLAINTS_UPDATES, name)
    event.update(event_id=str(uuid.uuid4()), complaint_id=complaint_id)
    return event


def keyed(event: dict[str, Any]) -> tuple[bytes, bytes]:
    return str(event["complaint_id"]).encode(), json.dumps(event).encode()


async def new_letters(stack: IngestionStack, before: int, expected: int) -> list[DeadLetter]:
    letters = await eventually(
        lambda: asyncio.to_thread(stack.dead_letters),
        lambda found: len(found) >= before + expected,
        timeout=120,
    )
    return letters[before:]


async def workflows_with_prefix(stack: IngestionStack, prefix: str) -> int:
    return await stack.count_workflows(f'WorkflowId STARTS_WITH "{prefix}"')


async def test_mixed_batch_has_exactly_the_expected_effects(ingestion_stack: IngestionStack):
    stack = ingestion_stack
    prefix = f"MIX{uuid.uuid4().hex[:6]}-"
    ids = [f"{prefix}R{i}" for i in range(12)]
    letters_before = len(stack.dead_letters())
    intake = [received(cid) for cid in ids]

    # An update published before its complaint: it waits for the intake (other topic).
    late = f"{prefix}LATE"
    early_survey = follow_up("survey-responded", late)
    stack.publish(topics.COMPLAINTS_UPDATES, [keyed(early_survey)])

    stack.publish(
        topics.COMPLAINTS_RECEIVED,
        [
            *(keyed(e) for e in intake),
            *(keyed(e) for e in intake[:3]),  # exact redeliveries: same event ids
            keyed(received(ids[3])),  # another intake event for an existing complaint
            (ids[4].encode(), b"\xff\xfe not UTF-8"),
            (ids[4].encode(), b'{"event_id": "not json'),
            (ids[4].encode(), json.dumps({**received(ids[4]), "channel": "pigeon"}).encode()),
            (b"SOMEONE-ELSE", json.dumps(received(f"{prefix}KEYED-WRONG")).encode()),
            (None, json.dumps(received(f"{prefix}NO-KEY")).encode()),
            keyed({**received(f"{prefix}HUGE"), "description": "x" * 300_000}),
        ],
    )
    information = [follow_up("customer-information-added", cid) for cid in ids[:2]]
    surveys = [follow_up("survey-responded", cid) for cid in ids[2:4]]
    activity = follow_up("customer-activity", ids[4])
    refused = follow_up("verification-completed", ids[5])  # not verifying yet
    unknown = follow_up("survey-responded", f"{prefix}NEVER-RECEIVED")
    stack.publish(
        topics.COMPLAINTS_UPDATES,
        [
            *(keyed(e) for e in information),
            keyed(information[0]),  # redelivered: same event id, same Update id
            *(keyed(e) for e in surveys),
            keyed(activity),
            keyed(activity),  # a redelivered signal: the workflow's seen-set drops it
            keyed(refused),
            keyed(unknown),
            keyed({**follow_up("survey-responded", ids[6]), "event_type": "survey.ignored"}),
            keyed({**follow_up("survey-responded", ids[6]), "csat": 9}),
        ],
    )
    await asyncio.sleep(1.0)
    stack.publish_events(topics.COMPLAINTS_RECEIVED, [received(late)])

    await stack.wait_consumed(topics.COMPLAINTS_RECEIVED, topics.COMPLAINTS_UPDATES)
    letters = await new_letters(stack, letters_before, 10)

    assert await workflows_with_prefix(stack, prefix) == 13, stack.logs()
    # Updates complete only once their audit entry is written, and offsets are committed
    # after that; the intake's entry and a signal's are written after Temporal accepted.
    receipts = await until_complete(
        lambda: asyncio.to_thread(stack.audit_entries, "complaint.received", prefix), 13
    )
    assert receipts == {cid: 1 for cid in [*ids, late]}
    assert stack.audit_entries("complaint.information_added", prefix) == {ids[0]: 1, ids[1]: 1}
    assert stack.audit_entries("complaint.survey", prefix) == {ids[2]: 1, ids[3]: 1, late: 1}
    activities = await until_complete(
        lambda: asyncio.to_thread(stack.audit_entries, "complaint.customer_activity", prefix), 1
    )
    assert activities == {ids[4]: 1}
    assert stack.audit_entries("complaint.verified", prefix) == {}

    assert len(letters) == 10, [letter.describe() for letter in letters]
    kinds = [letter.kind for letter in letters]
    assert kinds.count(DeadLetterKind.INVALID) == 8
    [refusal] = [letter for letter in letters if letter.kind is DeadLetterKind.REFUSED]
    assert refusal.event_id == refused["event_id"] and refusal.complaint_id == ids[5]
    assert "a verification.completed event is not allowed" in refusal.reason
    [missing] = [letter for letter in letters if letter.kind is DeadLetterKind.UNKNOWN_COMPLAINT]
    assert missing.event_id == unknown["event_id"]
    assert f"after waiting {UNKNOWN_COMPLAINT_WAIT_S:g} s" in missing.reason
    reasons = {(letter.source_topic, letter.field, letter.reason) for letter in letters}
    assert (topics.COMPLAINTS_RECEIVED, "key", "does not match complaint_id") in reasons
    assert (topics.COMPLAINTS_RECEIVED, "key", "is missing; it must be the complaint_id") in reasons
    assert (
        topics.COMPLAINTS_RECEIVED,
        "$.channel",
        "must be one of web, email, phone, chat, social, store, mail, referral, fax, other",
    ) in reasons
    [huge] = [letter for letter in letters if letter.reason.startswith("event is ")]
    assert huge.value_size > 300_000 and not huge.value_truncated
    [garbled] = [letter for letter in letters if letter.reason.startswith("not UTF-8")]
    assert garbled.original_value() == b"\xff\xfe not UTF-8"
    assert garbled.original_key() == ids[4].encode()
    assert any(letter.reason.startswith("unknown event type") for letter in letters)


async def test_dlq_list_and_replay_once_the_cause_is_fixed(ingestion_stack: IngestionStack):
    stack = ingestion_stack
    complaint_id = f"REPLAY{uuid.uuid4().hex[:6]}"
    survey = follow_up("survey-responded", complaint_id)
    before = len(stack.dead_letters())
    stack.publish_events(topics.COMPLAINTS_UPDATES, [survey])
    [letter] = await new_letters(stack, before, 1)
    assert letter.kind is DeadLetterKind.UNKNOWN_COMPLAINT

    listed = stack.cli("dlq", "list", "--kind", "unknown_complaint", "--json")
    records = [json.loads(line) for line in listed.stdout.splitlines()]
    [record] = [r for r in records if r.get("event_id") == survey["event_id"]]
    assert record["reason"] == letter.reason and record["replayed"] is False
    text = stack.cli("dlq", "list", "--limit", "5").stdout
    assert f"complaint {complaint_id}" in text and letter.reason in text

    # The cause is fixed: the complaint arrives. Then the dead letter is replayed, once.
    stack.publish_events(topics.COMPLAINTS_RECEIVED, [received(complaint_id)])
    assert (
        await eventually(lambda: workflows_with_prefix(stack, complaint_id), lambda n: n == 1) == 1
    )
    dry = stack.cli("dlq", "replay", "--event-id", survey["event_id"], "--dry-run")
    assert "would replay 1" in dry.stdout
    replayed = stack.cli("dlq", "replay", "--event-id", survey["event_id"])
    assert "replayed 1," in replayed.stdout, replayed.stdout + replayed.stderr
    again = stack.cli("dlq", "replay", "--event-id", survey["event_id"])
    assert "replayed 0, skipped 1 already replayed" in again.stdout

    await stack.wait_consumed(topics.COMPLAINTS_UPDATES)
    surveys = await eventually(
        lambda: asyncio.to_thread(stack.audit_entries, "complaint.survey", complaint_id),
        lambda found: found == {complaint_id: 1},
    )
    assert surveys == {complaint_id: 1}, stack.logs()
    assert len(stack.dead_letters()) == before + 1  # the replay did not fail again


def _publish_paced(
    stack: IngestionStack,
    topic: str,
    events: list[dict],
    per_batch: int,
    pause: float,
    done: threading.Event,
) -> None:
    try:
        for start in range(0, len(events), per_batch):
            stack.publish_events(topic, events[start : start + per_batch])
            time.sleep(pause)
    finally:
        done.set()


async def test_sigkill_mid_batch_loses_nothing_and_duplicates_nothing(
    ingestion_stack: IngestionStack,
):
    stack = ingestion_stack
    prefix = f"KILL{uuid.uuid4().hex[:6]}-"
    events = [received(f"{prefix}{i:03d}") for i in range(500)]
    published = threading.Event()
    publisher = threading.Thread(
        target=_publish_paced,
        args=(stack, topics.COMPLAINTS_RECEIVED, events, 25, 0.1, published),
    )
    publisher.start()
    started = await eventually(
        lambda: workflows_with_prefix(stack, prefix), lambda n: n >= 120, interval=0.2
    )
    assert started >= 120, stack.logs()
    stack.kill_stream()  # mid-batch: events in flight, offsets not yet committed
    killed_at = await workflows_with_prefix(stack, prefix)
    assert killed_at < 500
    await asyncio.to_thread(published.wait)
    publisher.join()
    stack.start_stream()

    total = await eventually(
        lambda: workflows_with_prefix(stack, prefix), lambda n: n >= 500, timeout=240
    )
    await stack.wait_consumed(topics.COMPLAINTS_RECEIVED, timeout=240)
    assert total == 500 and await workflows_with_prefix(stack, prefix) == 500, stack.logs()
    entries = await until_complete(
        lambda: asyncio.to_thread(stack.audit_entries, "complaint.received", prefix), 500
    )
    assert entries == {event["complaint_id"]: 1 for event in events}
    # The restarted processor saw some events again, and they had no second effect.
    assert "duplicate intake" in stack.log_text("stream")


async def test_temporal_outage_loses_nothing(ingestion_stack: IngestionStack):
    stack = ingestion_stack
    prefix = f"DOWN{uuid.uuid4().hex[:6]}-"
    before_outage = [received(f"{prefix}A{i:02d}") for i in range(20)]
    during_outage = [received(f"{prefix}B{i:02d}") for i in range(40)]
    after_outage = [received(f"{prefix}C{i:02d}") for i in range(20)]
    information = [
        follow_up("customer-information-added", e["complaint_id"]) for e in before_outage[:10]
    ]

    stack.publish_events(topics.COMPLAINTS_RECEIVED, before_outage)
    assert (
        await eventually(lambda: workflows_with_prefix(stack, prefix), lambda n: n == 20) == 20
    ), stack.logs()
    stack.stop_temporal()
    for start in range(0, len(during_outage), 10):
        stack.publish_events(topics.COMPLAINTS_RECEIVED, during_outage[start : start + 10])
        await asyncio.sleep(0.5)
    stack.publish_events(topics.COMPLAINTS_UPDATES, information)
    await asyncio.sleep(3)  # the stream keeps retrying; nothing may be committed meanwhile
    assert stack.committed_lag(topics.COMPLAINTS_RECEIVED) >= 40
    stack.restart_temporal()
    stack.publish_events(topics.COMPLAINTS_RECEIVED, after_outage)

    await stack.wait_consumed(topics.COMPLAINTS_RECEIVED, topics.COMPLAINTS_UPDATES, timeout=240)
    assert await workflows_with_prefix(stack, prefix) == 80, stack.logs()
    everything = before_outage + during_outage + after_outage
    entries = await until_complete(
        lambda: asyncio.to_thread(stack.audit_entries, "complaint.received", prefix), 80
    )
    assert entries == {event["complaint_id"]: 1 for event in everything}
    added = await until_complete(
        lambda: asyncio.to_thread(stack.audit_entries, "complaint.information_added", prefix), 10
    )
    assert added == {event["complaint_id"]: 1 for event in information}
    assert not [
        letter
        for letter in stack.dead_letters()
        if letter.complaint_id and letter.complaint_id.startswith(prefix)
    ], "transient trouble must never be dead-lettered"


async def test_publish_cli_sends_complaints_and_follow_ups(ingestion_stack: IngestionStack):
    stack = ingestion_stack
    sent = stack.cli("publish", "--example")
    complaint_id = sent.stdout.strip().rsplit(": ", 1)[1]
    assert (
        await eventually(lambda: workflows_with_prefix(stack, complaint_id), lambda n: n == 1) == 1
    ), stack.logs()
    stack.cli(
        "publish", "--example", "--topic", topics.COMPLAINTS_UPDATES, "--complaint", complaint_id
    )
    surveys = await until_complete(
        lambda: asyncio.to_thread(stack.audit_entries, "complaint.survey", complaint_id), 1
    )
    assert surveys == {complaint_id: 1}
    refused = subprocess.run(
        [sys.executable, "-m", "closeloop", "publish", "--topic", topics.COMPLAINTS_UPDATES, "-"],
        input=json.dumps({**follow_up("survey-responded", complaint_id), "csat": 7}),
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode != 0 and "$.csat: violates maximum 5" in refused.stderr
