"""`recurrence_rate_pct` with similar complaints: a complaint compared at intake recurs only
after the closure of one whose text the lookup found similar (same product and category)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit.store import AuditLog
from kpi import service
from tests.kpi.builder import LogBuilder, at


def _received(b: LogBuilder, cid: str, when: str, similar: list[str] | None) -> None:
    data: dict[str, Any] = {
        "event_id": f"ev-{cid}", "source": "shop", "channel": "web", "customer_id": f"c-{cid}",
        "product_sku": "mixer", "product_lot": None, "summary": "s",
        "received_upstream_at": at(when).isoformat(),
    }  # fmt: skip
    if similar is not None:
        data["similar"] = {
            "method": "tfidf-char-ngrams", "method_version": "1", "threshold": 0.65,
            "suggestions": [{"complaint_id": s, "score": 0.9} for s in similar],
        }  # fmt: skip
    b.add(cid, "complaint.received", at(when), data)


def test_only_a_similar_earlier_complaint_makes_a_compared_one_recur(
    log: AuditLog, tmp_path: Path
) -> None:
    b = LogBuilder(log)
    _received(b, "A", "2026-07-01T00:00", None)
    b.triaged("A", at("2026-07-02T00:00"), "glass")
    b.closed("A", at("2026-07-05T00:00"))
    _received(b, "B", "2026-07-10T00:00", ["A"])  # similar to A: recurs after A's closure
    b.triaged("B", at("2026-07-11T00:00"), "glass")
    _received(b, "C", "2026-07-12T00:00", [])  # compared, nothing similar: a new problem
    b.triaged("C", at("2026-07-13T00:00"), "glass")
    _received(b, "D", "2026-07-14T00:00", None)  # from before the lookup: product + category
    b.triaged("D", at("2026-07-15T00:00"), "glass")
    ledger, checkpoint = service.from_log(log, tmp_path, label="test")
    result = service.show(
        ledger, checkpoint, start=at("2026-07-01").date(), end=at("2026-07-31").date()
    )
    [row] = result.rows
    assert row.figures["recurrence_rate_pct"] == 50.0  # B and D of A, B, C, D
