"""A repeated computation (kept facts + what is new) equals a fresh one, whatever is new.

And entries that are not about a complaint (identity.*, operations.shipment) never count
as complaints, however many there are.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from audit.store import AuditLog
from kpi import service
from kpi.ledger import Ledger, cache_path, load
from kpi.source import new_rows
from tests.kpi.builder import LogBuilder, at

VIEWS: list[dict[str, object]] = [
    {},
    {"by": ["month"]},
    {"by": ["product", "quarter"]},
    {"by": ["category", "channel"]},
    {"start": date(2026, 7, 1), "end": date(2026, 9, 30), "by": ["product"]},
]


def table(ledger: Ledger, **options: object) -> list[dict[str, object]]:
    result = service.show(ledger, None, **options)  # type: ignore[arg-type]
    return [{**row.group, **row.figures} for row in result.rows]


def fresh(log: AuditLog) -> Ledger:
    ledger = Ledger()
    ledger.extend(new_rows(log, 0))
    return ledger


def add_one_of_every_kind(b: LogBuilder) -> int:
    """New entries touching old complaints and new ones; returns how many were added."""
    before = b.count
    b.reopened("A", at("2027-01-20T00:00"))  # a closed complaint reopened
    b.escalated("A", at("2027-01-21T00:00"), "closure")
    b.closed("A", at("2027-01-25T00:00"))
    b.closed("C", at("2027-01-22T00:00"))  # the open one closed at last
    b.shipment("mixer", "2026-09", 4000)  # September restated once more
    b.shipment("kettle", "2026-08", 500)  # a product's first shipments
    b.received("G", at("2027-01-23T00:00"), customer="cust-E")  # E's customer again
    b.acknowledged("G", at("2027-01-23T05:00"))
    b.triaged("G", at("2027-01-24T00:00"), "glass", "high")  # recurrence of C's closure
    b.decision("G", "capa.planned", at("2027-01-24T00:00"), actions=[])
    b.decision("G", "capa.action_completed", at("2027-01-26T00:00"), action_id="a1")
    b.decision("G", "complaint.verified", at("2027-01-27T00:00"), effective=True)
    b.survey("G", at("2027-01-28T00:00"), csat=4, nps=9)
    b.activity("A", at("2027-01-28T00:00"))  # A's customer back after A's closure
    b.received("H", at("2027-01-29T00:00"), product="kettle", channel="phone")
    b.rejected("H", at("2027-01-30T00:00"))
    b.received("F", at("2026-10-02T00:00"))  # a duplicate receipt: the latest wins
    return b.count - before


def test_a_repeat_equals_a_fresh_computation(
    story: LogBuilder, log: AuditLog, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    kept, _ = service.from_log(log, home, label="test")
    before = [table(kept, **view) for view in VIEWS]
    added = add_one_of_every_kind(story)
    again, _ = service.from_log(log, home, label="test")
    assert again.folded_now == added  # only what is new was read
    anew = fresh(log)
    for view, old in zip(VIEWS, before, strict=True):
        assert table(again, **view) == table(anew, **view)
        assert table(again, **view) != old or view.get("start")  # the new entries count
    assert again.root_hex() == anew.root_hex() and again.size == anew.size == log.count()
    assert load(cache_path(home, "test")).facts.last_seq == log.count()  # the kept file too


def test_a_repeat_with_nothing_new_folds_nothing(
    story: LogBuilder, log: AuditLog, tmp_path: Path
) -> None:
    first, _ = service.from_log(log, tmp_path, label="test")
    again, _ = service.from_log(log, tmp_path, label="test")
    assert first.folded_now == log.count() and again.folded_now == 0
    assert table(again, by=["month"]) == table(first, by=["month"])


def test_identity_and_shipment_entries_are_not_complaints(log: AuditLog) -> None:
    b = LogBuilder(log)
    b.received("A", at("2026-07-01T00:00"))
    for kind in ("identity.user_added", "identity.login", "identity.login_failed"):
        b.add("identity", kind, at("2026-07-02T00:00"), {"user": "quality", "role": "manager"})
    b.shipment("mixer", "2026-07", 1000)
    b.shipment("mixer", "2026-07", 2000)
    ledger = fresh(log)
    assert set(ledger.facts.complaints) == {"A"}
    [row] = table(ledger)
    assert row["complaints_received"] == 1 and row["open_at_end"] == 1
    assert row["complaints_per_million_units"] == 500.0  # 1 / 2000 units (latest report)


def repeat_and_fresh(
    log: AuditLog, home: Path, **view: object
) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    again, _ = service.from_log(log, home, label="test")
    kept = table(again, **view)
    assert again.checkout is not None  # served from the kept aggregates, not a full refold
    return kept, table(fresh(log), **view)


def test_a_late_triage_of_a_closed_complaint_reaches_later_receipts(
    log: AuditLog, tmp_path: Path
) -> None:
    b = LogBuilder(log)
    b.received("A", at("2026-07-01T00:00"))
    b.closed("A", at("2026-07-05T00:00"))  # closed before anyone said what it was
    b.received("B", at("2026-07-10T00:00"))
    b.triaged("B", at("2026-07-11T00:00"), "glass")
    first, _ = service.from_log(log, tmp_path, label="test")
    [before] = table(first)
    assert before["recurrence_rate_pct"] == 0.0  # B: no closure of a glass mixer before it
    b.triaged("A", at("2026-07-12T00:00"), "glass")  # A's closure is now a glass mixer's
    [kept], [anew] = repeat_and_fresh(log, tmp_path)
    assert kept == anew and kept["recurrence_rate_pct"] == 50.0  # B (untouched) of A and B


def test_a_receipt_reported_ahead_of_the_log_counts_once_the_log_reaches_it(
    log: AuditLog, tmp_path: Path
) -> None:
    b = LogBuilder(log)
    b.received("A", at("2026-07-01T00:00"))
    b.received("B", at("2026-07-20T00:00"), ingested=at("2026-07-02T00:00"))  # clock ahead
    first, _ = service.from_log(log, tmp_path, label="test")
    assert table(first)[0]["complaints_received"] == 1  # the range ends at the latest entry
    b.acknowledged("A", at("2026-07-25T00:00"))
    [kept], [anew] = repeat_and_fresh(log, tmp_path)
    assert kept == anew and kept["complaints_received"] == 2  # B, untouched, now in range


def test_retention_counts_once_the_window_has_passed_and_through_other_complaints(
    log: AuditLog, tmp_path: Path
) -> None:
    b = LogBuilder(log)
    b.received("A", at("2026-07-01T00:00"), customer="cust-1")
    b.closed("A", at("2026-07-02T00:00"))
    first, _ = service.from_log(log, tmp_path, label="test")
    assert table(first)[0]["retention_pct"] is None  # A's 90 days have not passed
    b.received("B", at("2026-08-01T00:00"), customer="cust-1")
    b.activity("B", at("2026-08-02T00:00"))  # the customer is back, on another complaint
    b.received("C", at("2026-10-15T00:00"))  # the log reaches past A's window
    [kept], [anew] = repeat_and_fresh(log, tmp_path)
    assert kept == anew and kept["retention_pct"] == 100.0
