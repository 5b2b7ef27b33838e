"""The export bundle carries each exported complaint's 21 CFR 820.35(a) record, built from
its audit entries, each item naming the entries it comes from; the bundle still verifies."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from audit.export import export_bundle
from audit.models import NewEntry
from audit.qmsr_records import COMPLAINANT_HELD, qmsr_records
from audit.store import AuditLog, EntryFilter
from tests.audit.conftest import T0, checkpoint, run_standalone

pytestmark = pytest.mark.clause("21 CFR 820.35")

RECEIVED = {
    "event_id": "2b7f6c1e-8d4a-4f0e-9c5b-7a1d3e9f0a42",
    "source": "crm",
    "channel": "phone",
    "customer_id": "CUST-20931",
    "product_sku": "INF-PUMP-7",
    "product_lot": "7654321D",
    "summary": "Pump alarmed occlusion and stopped",
    "received_upstream_at": "2026-11-24T08:40:00+00:00",
    "qmsr": {
        "device_name": "Infusion pump IP-7",
        "device": {"sku": "INF-PUMP-7", "lot": "7654321D", "udi_di": "00844588003288"},
        "received_upstream_at": "2026-11-24T08:40:00+00:00",
        "complainant_digest": "sha256:" + "ab" * 32,
        "event_occurred_at": None,
    },
}
STEPS = [
    ("complaint.received", RECEIVED),
    ("complaint.acknowledged", {"input": {"channel": "phone", "message": ""}}),
    (
        "complaint.investigated",
        {"input": {"root_causes": ["Sensor drift in lot 7654321D"], "final": True}},
    ),
    (
        "capa.planned",
        {"input": {"actions": [{"id": "A1", "kind": "corrective", "description": "Recalibrate"}]}},
    ),
    ("capa.action_completed", {"input": {"action_id": "A1", "evidence": ["qms://ECO-7"]}}),
    ("complaint.closed", {"input": {"customer_response": "Pump replaced; lot recalibrated"}}),
]


def append_case(log: AuditLog, complaint_id: str) -> None:
    for i, (entry_type, data) in enumerate(STEPS):
        log.append(
            NewEntry(
                complaint_id=complaint_id,
                entry_type=entry_type,
                actor="qe.smith",
                occurred_at=T0 + timedelta(hours=i),
                reason="",
                data=data,
                idempotency_key=f"{complaint_id}:{i}",
            ),
            now=T0 + timedelta(hours=i, seconds=1),
        )


def test_the_bundle_holds_the_qmsr_record_and_verifies(
    sqlite_url: str, key: Ed25519PrivateKey, tmp_path: Path
) -> None:
    log = AuditLog.from_url(sqlite_url)
    append_case(log, "C-QMSR-1")
    append_case(log, "C-OTHER")
    checkpoint(log, key)
    bundle = tmp_path / "bundle"
    export_bundle(log, bundle, key.public_key(), EntryFilter(complaint_id="C-QMSR-1"))

    [record] = [json.loads(line) for line in (bundle / "qmsr-records.jsonl").open()]
    assert record["complaint_id"] == "C-QMSR-1"
    items = {item["item"]: item for item in record["items"]}
    assert all(item["recorded"] for item in items.values())
    assert items["820.35(a)(1)"]["values"] == ["Infusion pump IP-7"]
    assert items["820.35(a)(3)"]["values"][0]["udi_di"] == "00844588003288"
    assert items["820.35(a)(4)"]["values"] == [COMPLAINANT_HELD]
    assert "Sensor drift" in items["820.35(a)(6)"]["values"][0]
    assert len(items["820.35(a)(7)"]["values"]) == 2
    assert "Pump replaced" in items["820.35(a)(8)"]["values"][-1]
    seqs = {json.loads(line)["seq"] for line in (bundle / "entries.jsonl").open()}
    assert set(items["820.35(a)(6)"]["audit_seq"]) <= seqs
    assert record["complainant_digest"] == "sha256:" + "ab" * 32

    verified = run_standalone(bundle)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    log.engine.dispose()


def test_a_complaint_from_before_the_qmsr_fields_shows_what_its_receipt_held() -> None:
    old = {k: v for k, v in RECEIVED.items() if k != "qmsr"}
    entry = {"seq": 1, "complaint_id": "C-OLD", "entry_type": "complaint.received", "data": old}
    [record] = qmsr_records([entry])
    items = {item["item"]: item for item in record["items"]}
    assert items["820.35(a)(1)"]["values"] == ["INF-PUMP-7"]
    assert items["820.35(a)(3)"]["values"] == [{"sku": "INF-PUMP-7", "lot": "7654321D"}]
    assert not items["820.35(a)(6)"]["recorded"]
    assert record["complainant_digest"] is None
