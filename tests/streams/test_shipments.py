"""operations.shipments.v1: each report kept once in the audit log, bad input dead-lettered.

The audit log is real (SQLite); the dead-letter sink is the recording stand-in of the other
handler tests (the broker path is the same DeadLetterWriter as for complaints).
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from audit.store import AuditLog
from schemas.contract import examples_dir, invalid_dir
from schemas.dead_letter import DeadLetterKind
from schemas.shipment import SHIPMENT_ENTRY
from schemas.topics import OPERATIONS_SHIPMENTS
from streams.messages import Outcome
from streams.shipments import AuditShipments, handle_shipment
from tests.streams.doubles import Message, RecordingDeadLetters

EXAMPLE = (examples_dir(OPERATIONS_SHIPMENTS) / "monthly-report.json").read_bytes()


def run(value: bytes, url: str, letters: RecordingDeadLetters) -> Outcome:
    message = Message(OPERATIONS_SHIPMENTS, value, key=b"Credit card or prepaid card")
    return asyncio.run(handle_shipment(message, AuditShipments(url), letters))


def test_a_report_is_recorded_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    letters = RecordingDeadLetters()
    assert run(EXAMPLE, url, letters) is Outcome.APPLIED
    assert run(EXAMPLE, url, letters) is Outcome.DUPLICATE  # redelivered after a crash
    log = AuditLog.from_url(url, create=False)
    [entry] = log.entries()
    assert entry.entry_type == SHIPMENT_ENTRY
    assert entry.data == {
        "event_id": "3d1c7f0e-52a4-4c1b-9a53-6f1e0b7c2a10",
        "source": "erp",
        "product": "Credit card or prepaid card",
        "period": "2026-07",
        "units": 125000,
    }
    assert letters.letters == []
    log.dispose()


@pytest.mark.parametrize(
    "path", sorted(invalid_dir(OPERATIONS_SHIPMENTS).glob("*.json")), ids=lambda p: p.stem
)
def test_a_malformed_report_is_dead_lettered_with_the_reason(tmp_path: Path, path: Path) -> None:
    fixture = json.loads(path.read_text(encoding="utf-8"))
    url = f"sqlite:///{tmp_path / 'audit.db'}"
    letters = RecordingDeadLetters()
    assert run(json.dumps(fixture["document"]).encode(), url, letters) is Outcome.DEAD_LETTERED
    [letter] = letters.letters
    assert letter.kind is DeadLetterKind.INVALID
    assert letter.field == fixture["field"] and letter.reason
    assert letter.source_topic == OPERATIONS_SHIPMENTS
    assert not (tmp_path / "audit.db").exists()  # nothing recorded, not even a database


def test_not_json_is_dead_lettered(tmp_path: Path) -> None:
    letters = RecordingDeadLetters()
    assert run(b"units=5", f"sqlite:///{tmp_path / 'a.db'}", letters) is Outcome.DEAD_LETTERED
    assert letters.letters[0].reason.startswith("not JSON")
