"""Choosing what `closeloop dlq replay` sends: filtered, complete, and not twice by accident."""

from __future__ import annotations

from datetime import UTC, datetime

from closeloop.dlq import ReplayLedger, StoredLetter, plan_replay
from schemas.dead_letter import DeadLetterKind
from schemas.decoding import InvalidEvent
from streams.dead_letters import build_letter
from tests.streams.doubles import Message


def stored(offset: int, event_id: str | None, kind=DeadLetterKind.INVALID, size=10) -> StoredLetter:
    message = Message("complaints.updates.v1", b"x" * size, b"C-1", partition=0, offset=offset)
    letter = build_letter(
        message,
        InvalidEvent("$", "why", event_id, "C-1"),
        kind,
        keep_bytes=100,
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    return StoredLetter(0, offset, letter)


def test_filters_and_the_ledger(tmp_path) -> None:
    letters = [
        stored(0, "e-1"),
        stored(1, "e-2", DeadLetterKind.UNKNOWN_COMPLAINT),
        stored(2, None),
        stored(3, "e-3", size=500),  # kept truncated: cannot be replayed
        StoredLetter(0, 4, None, "unreadable dead letter: 3 error(s)"),
    ]
    plan = plan_replay(letters, {})
    assert [s.offset for s in plan.to_replay] == [0, 1, 2]
    assert [s.offset for s, _ in plan.not_replayable] == [3, 4]

    assert [s.offset for s in plan_replay(letters, {}, event_id="e-2").to_replay] == [1]
    assert [s.offset for s in plan_replay(letters, {}, kind="unknown_complaint").to_replay] == [1]
    position = "complaints.dlq.v1/0/2"
    assert [s.offset for s in plan_replay(letters, {}, position=position).to_replay] == [2]

    ledger = ReplayLedger(tmp_path)
    ledger.record([(letters[0].position, "e-1")])
    again = plan_replay(letters, ledger.load())
    assert [s.offset for s in again.to_replay] == [1, 2]
    assert [s.offset for s in again.already_replayed] == [0]
    forced = plan_replay(letters, ledger.load(), again=True)
    assert [s.offset for s in forced.to_replay] == [0, 1, 2]
