"""The 21 CFR 820.35(a) complaint record of each exported complaint, built from its audit
entries, for the export bundle (`qmsr-records.jsonl`).

Each item names the audit entries (`seq`) it comes from, so an auditor can check it against
`entries.jsonl`, which `verify.py` proves unchanged. The complainant's name, address and
phone are personal data and never in the audit log: the record carries their digest
(`complainant_digest`, see `schemas.qmsr`) and says where the data is held. Complaints
received before the QMSR fields existed show only what their receipt recorded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from schemas.qmsr import REQUIREMENTS

COMPLAINANT_HELD = (
    "held in the complaint's record (closeloop complaint show) and the upstream CRM, "
    "never in the audit log; compare with complainant_digest"
)


class _Record:
    def __init__(self, complaint_id: str) -> None:
        self.complaint_id = complaint_id
        self.items: dict[str, dict[str, Any]] = {
            r.item: {"values": [], "seq": []} for r in REQUIREMENTS
        }
        self.complainant_digest: str | None = None

    def add(self, item: str, seq: int, value: Any) -> None:
        self.items[item]["values"].append(value)
        self.items[item]["seq"].append(seq)

    def document(self) -> dict[str, Any]:
        return {
            "complaint_id": self.complaint_id,
            "complainant_digest": self.complainant_digest,
            "items": [
                {
                    "item": r.item,
                    "requirement": r.what,
                    "values": self.items[r.item]["values"],
                    "audit_seq": self.items[r.item]["seq"],
                    "recorded": bool(self.items[r.item]["values"]),
                }
                for r in REQUIREMENTS
            ],
        }


class QmsrRecords:
    """Fed the exported entries one by one (an export streams them), one record per
    complaint, in order of first appearance."""

    def __init__(self) -> None:
        self._records: dict[str, _Record] = {}

    def add(self, entry: dict[str, Any]) -> None:
        complaint_id, data = entry.get("complaint_id"), entry.get("data")
        if not complaint_id or not isinstance(data, dict):
            return
        record = self._records.setdefault(complaint_id, _Record(complaint_id))
        _add(record, entry["entry_type"], int(entry["seq"]), entry.get("occurred_at"), data)

    def documents(self) -> list[dict[str, Any]]:
        return [record.document() for record in self._records.values()]


def qmsr_records(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    records = QmsrRecords()
    for entry in entries:
        records.add(entry)
    return records.documents()


def _add(record: _Record, kind: str, seq: int, at: Any, data: dict[str, Any]) -> None:
    given = _dict(data.get("input"))
    if kind == "complaint.received":
        _received(record, seq, data)
    elif kind == "complaint.investigated":
        final = "" if given.get("final", True) else " (preliminary)"
        record.add("820.35(a)(6)", seq, f"{at}: {'; '.join(given.get('root_causes', []))}{final}")
    elif kind == "complaint.investigation_declined":
        record.add("820.35(a)(6)", seq, f"{at}: not investigated: {given.get('reason', '')}")
    elif kind == "capa.planned":
        for action in given.get("actions", []):
            text = f"{action.get('id')} {action.get('kind')}: {action.get('description')}"
            record.add("820.35(a)(7)", seq, f"{at}: planned {text}")
    elif kind == "capa.action_completed":
        evidence = ", ".join(given.get("evidence", []))
        record.add("820.35(a)(7)", seq, f"{at}: {given.get('action_id')} done ({evidence})")
    elif kind == "complaint.acknowledged":
        record.add("820.35(a)(8)", seq, f"{at}: acknowledgment via {given.get('channel')}")
    elif kind == "complaint.closed":
        record.add("820.35(a)(8)", seq, f"{at}: response: {given.get('customer_response')}")


def _received(record: _Record, seq: int, data: dict[str, Any]) -> None:
    qmsr = _dict(data.get("qmsr"))
    device = qmsr.get("device") or {"sku": data.get("product_sku"), "lot": data.get("product_lot")}
    record.add("820.35(a)(1)", seq, qmsr.get("device_name") or data.get("product_sku"))
    record.add("820.35(a)(2)", seq, data.get("received_upstream_at"))
    record.add("820.35(a)(3)", seq, {k: v for k, v in device.items() if v is not None})
    record.add("820.35(a)(4)", seq, COMPLAINANT_HELD)
    nature = {"summary": data.get("summary"), "channel": data.get("channel")}
    if qmsr.get("event_occurred_at"):
        nature["event_occurred_at"] = qmsr["event_occurred_at"]
    record.add("820.35(a)(5)", seq, nature)
    record.complainant_digest = qmsr.get("complainant_digest")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}
