"""Every figure on the hand-built log of conftest.py, with the expected values worked out.

Complaints (receipt = upstream time): E 06-30 23:00 (kettle, ingested 07-01), A 07-01,
B 07-10, C 07-20, D 08-05 (kettle, phone), F 10-02. Q3 is [07-01, 10-01).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from audit.store import AuditLog
from kpi import service
from kpi.periods import KpiInputError
from tests.kpi.builder import LogBuilder

Q3 = {"start": date(2026, 7, 1), "end": date(2026, 9, 30)}


def figures(log: AuditLog, home: Path, **options: object) -> list[dict[str, object]]:
    ledger, checkpoint = service.from_log(log, home, label="test")
    result = service.show(ledger, checkpoint, **options)  # type: ignore[arg-type]
    return [{**row.group, **row.figures} for row in result.rows]


@pytest.mark.clause(
    "ISO 9001:2015 5.1.2",
    "ISO 9001:2015 9.1.2",
    "ISO 10002:2018 8.3",
    "ISO 10002:2018 8.4",
    "ISO 13485:2016 8.4",
)
def test_every_figure_over_the_quarter(story: LogBuilder, log: AuditLog, tmp_path: Path) -> None:
    [q3] = figures(log, tmp_path, **Q3)
    assert q3 == {
        "complaints_received": 4,  # A B C D; E was received upstream in June, F in October
        "complaints_closed": 3,  # E (07-05), A (07-11), B (last closure 09-04)
        "complaints_rejected": 1,  # D
        "open_at_end": 1,  # C
        "ack_time_median_h": 9.0,  # A 6 h, B 12 h, C 48 h, D 1 h
        "time_to_close_median_d": 10.0,  # E 5 d, A 10 d, B 56 d
        "time_to_close_p90_d": 56.0,  # nearest rank: ceil(0.9 x 3) = 3rd
        "on_time_ack_pct": 75.0,  # C escalated for acknowledgment: 3 / 4
        "on_time_close_pct": 66.67,  # E escalated before closing; B's was before reopening
        "overdue_open_pct": 100.0,  # C, escalated
        "reopen_rate_pct": 33.33,  # B / (A B E)
        "recurrence_rate_pct": 33.33,  # C after A (mixer, glass) / A B C; D has no category
        "capa_effective_first_pct": 0.0,  # B's first verification was not effective
        "capa_cycle_time_median_d": 10.0,  # B planned 07-20, completed 07-30
        "csat_responses": 2,  # A 5, B 2 (F's is in 2027)
        "csat_top2_pct": 50.0,
        "csat_mean": 3.5,
        "nps_responses": 2,  # A 10, B 3
        "nps": 0.0,  # 50 % promoters - 50 % detractors
        "promoters": 1,
        "passives": 0,
        "detractors": 1,
        "retention_pct": 33.33,  # A active 08-01; B never; E only after its 90 days
        "complaints_per_million_units": 600.0,  # A B C / (1000 + 1000 + 3000) mixers x 10^6
    }


@pytest.mark.clause("ISO 9001:2015 10.3", "ISO 10002:2018 8.7")
def test_by_month_a_complaint_closed_in_two_months(
    story: LogBuilder, log: AuditLog, tmp_path: Path
) -> None:
    rows = {row["month"]: row for row in figures(log, tmp_path, **Q3, by=["month"])}
    assert list(rows) == ["2026-07", "2026-08", "2026-09"]
    july, august, september = rows["2026-07"], rows["2026-08"], rows["2026-09"]
    assert (july["complaints_received"], august["complaints_received"]) == (3, 1)
    # B closed on 08-20 and again on 09-04: once in each month.
    assert (july["complaints_closed"], august["complaints_closed"]) == (2, 1)
    assert september["complaints_closed"] == 1
    assert july["open_at_end"] == 2  # B and C on 08-01
    assert july["overdue_open_pct"] == 50.0  # C escalated 07-21; B not before 08-09
    # September: no receipt, so no receipt-based figure, rather than 0.
    assert september["complaints_received"] == 0
    assert september["ack_time_median_h"] is None
    assert september["recurrence_rate_pct"] is None
    assert september["csat_responses"] == 1 and september["csat_top2_pct"] == 0.0
    assert july["complaints_per_million_units"] == 3000.0  # A B C / 1000
    assert august["complaints_per_million_units"] == 0.0  # D is a kettle: none shipped


@pytest.mark.clause("ISO 10002:2018 8.2")
def test_by_product_and_dimensions_without_shipments(
    story: LogBuilder, log: AuditLog, tmp_path: Path
) -> None:
    rows = {row["product"]: row for row in figures(log, tmp_path, **Q3, by=["product"])}
    assert rows["mixer"]["complaints_received"] == 3
    assert rows["kettle"]["complaints_received"] == 1
    assert rows["kettle"]["complaints_per_million_units"] is None  # no kettle shipments
    by_category = {r["category"]: r for r in figures(log, tmp_path, **Q3, by=["category"])}
    assert by_category["glass"]["complaints_received"] == 3
    assert by_category["(none)"]["complaints_received"] == 1  # D, never triaged
    assert by_category["glass"]["complaints_per_million_units"] is None


def test_an_empty_period_has_counts_of_zero_and_no_rates(
    story: LogBuilder, log: AuditLog, tmp_path: Path
) -> None:
    [row] = figures(log, tmp_path, start=date(2025, 1, 1), end=date(2025, 1, 31))
    assert row["complaints_received"] == 0 and row["csat_responses"] == 0
    rates = [name for name, value in row.items() if name.endswith(("_pct", "_d", "_h"))]
    assert rates and all(row[name] is None for name in rates)
    assert row["nps"] is None and row["csat_mean"] is None


@pytest.mark.clause("ISO 9001:2015 9.1.2", "ISO 10002:2018 8.3")
def test_no_responses_no_division_by_zero(log: AuditLog, tmp_path: Path) -> None:
    b = LogBuilder(log)
    from tests.kpi.builder import at

    b.received("X", at("2026-07-01T00:00"))
    [row] = figures(log, tmp_path)
    assert row["complaints_received"] == 1
    assert row["csat_responses"] == 0 and row["csat_top2_pct"] is None
    assert row["nps"] is None and row["retention_pct"] is None


@pytest.mark.clause("ISO 10002:2018 8.2", "ISO 13485:2016 8.4")
def test_explain_names_the_entries(story: LogBuilder, log: AuditLog, tmp_path: Path) -> None:
    ledger, checkpoint = service.from_log(log, tmp_path, label="test")
    result = service.show(ledger, checkpoint, evidence=True, **Q3)  # type: ignore[arg-type]
    [reopen] = service.explain(result, "reopen_rate_pct", {})
    assert (reopen["numerator"], reopen["denominator"]) == (1, 3)
    reopened = [e.seq for e in log.entries() if e.entry_type == "complaint.reopened"]
    assert reopened[0] in reopen["numerator_seqs"]
    [received] = service.explain(result, "complaints_received", {})
    expected = [
        e.seq for e in log.entries()
        if e.entry_type == "complaint.received" and e.complaint_id in "ABCD"
    ]  # fmt: skip
    assert received["denominator_seqs"] == expected
    with pytest.raises(KpiInputError, match="not a figure"):
        service.explain(result, "happiness", {})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"by": ["colour"]}, "--by 'colour' is not a dimension"),
        ({"by": ["month", "quarter"]}, "choose one time dimension"),
        ({"start": date(2026, 9, 1), "end": date(2026, 8, 1)}, "the range is inverted"),
    ],
)
def test_bad_options(
    log: AuditLog, tmp_path: Path, options: dict[str, object], message: str
) -> None:
    with pytest.raises(KpiInputError, match=message):
        figures(log, tmp_path, **options)
