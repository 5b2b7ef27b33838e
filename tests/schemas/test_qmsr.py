"""The complaint record of 21 CFR 820.35(a): every item has a home, the new
`complaints.received.v1` fields are optional, and the audit data at receipt holds no
personal data."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from schemas.complaint_state import ComplaintState, ComplaintStatus
from schemas.contract import CONTRACT, examples_dir
from schemas.events import ComplaintReceived
from schemas.qmsr import REQUIREMENTS, complainant_digest, receipt_data, record_from_state
from workflows.signature import canonical_state

pytestmark = pytest.mark.clause("21 CFR 820.35")

EXAMPLES = examples_dir("complaints.received.v1")


def example(name: str) -> ComplaintReceived:
    text = (EXAMPLES / f"{name}.json").read_text(encoding="utf-8")
    return ComplaintReceived.model_validate(json.loads(text), context=CONTRACT)


def test_every_item_of_820_35_a_is_mapped():
    assert [r.item for r in REQUIREMENTS] == [f"820.35(a)({n})" for n in range(1, 9)]


def test_the_medical_device_example_carries_udi_control_numbers_and_contact():
    complaint = example("medical-device-qmsr")
    assert complaint.product.udi_di == "00844588003288"
    assert (complaint.product.lot, complaint.product.serial) == ("7654321D", "10987654d321")
    assert complaint.customer.phone and complaint.customer.address
    assert complaint.event_occurred_at is not None


def test_complaints_without_the_new_fields_serialise_as_before():
    """Absent fields stay absent, so states from before keep their signed hash."""
    complaint = example("web-shop")
    dumped = complaint.model_dump(mode="json")
    assert set(dumped["product"]) == {"sku", "name", "lot"}
    assert set(dumped["customer"]) == {"id", "name", "email"}
    assert "event_occurred_at" not in dumped


def test_receipt_audit_data_holds_a_digest_not_the_complainant():
    complaint = example("medical-device-qmsr")
    data = receipt_data(complaint)
    text = json.dumps(data)
    customer = complaint.customer
    for personal in (customer.name, customer.email, customer.phone, "Main Street"):
        assert personal and personal not in text
    assert data["qmsr"]["complainant_digest"] == complainant_digest(customer)
    assert data["qmsr"]["device"]["udi"].startswith("(01)00844588003288")


def test_the_record_lays_out_every_item_and_says_what_is_missing():
    complaint = example("medical-device-qmsr")
    state = ComplaintState(
        complaint_id=complaint.complaint_id,
        status=ComplaintStatus.RECEIVED,
        complaint=complaint,
        received_at=datetime(2026, 11, 24, 9, tzinfo=UTC),
    )
    record = {item: value for item, _, value in record_from_state(state)}
    assert record["820.35(a)(1)"] == "Infusion pump IP-7"
    assert "udi_di 00844588003288" in record["820.35(a)(3)"]
    assert "+1 (617) 555-0100" in record["820.35(a)(4)"]
    assert record["820.35(a)(6)"] == record["820.35(a)(8)"] == "not recorded"
    assert b"udi" in canonical_state(state)
