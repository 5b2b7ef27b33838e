"""The reporting rules table: which report each market owes for each event class, and when
(21 CFR 803.50 / 803.53, EU MDR Art. 87), counted from awareness."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas import reporting_rules
from schemas.reporting_rules import EventClass, Market, ReportKind, add_work_days

pytestmark = pytest.mark.clause("21 CFR 803", "EU MDR Art. 87")

AWARE = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)  # a Thursday
TABLE = reporting_rules.current()


def owed(*markets: Market, event: EventClass, remedial: bool = False) -> list[tuple]:
    return [
        (r.market, r.kind, r.due_at(AWARE)) for r in TABLE.required(list(markets), event, remedial)
    ]


@pytest.mark.parametrize("event", list(EventClass))
def test_fda_mdr_is_30_calendar_days_for_every_reportable_event(event):
    assert owed(Market.US, event=event) == [
        (Market.US, ReportKind.MDR_30_DAY, AWARE + timedelta(30))
    ]


def test_fda_remedial_action_makes_it_the_5_work_day_report():
    # Thursday + 5 work days = next Thursday (the weekend does not count).
    assert owed(Market.US, event=EventClass.MALFUNCTION, remedial=True) == [
        (Market.US, ReportKind.MDR_5_DAY, AWARE + timedelta(7))
    ]


@pytest.mark.parametrize(
    ("event", "days"),
    [
        (EventClass.PUBLIC_HEALTH_THREAT, 2),
        (EventClass.DEATH, 10),
        (EventClass.SERIOUS_INJURY, 10),
        (EventClass.MALFUNCTION, 15),
    ],
)
def test_eu_mdr_article_87_clocks(event, days):
    assert owed(Market.EU, event=event, remedial=True) == [
        (Market.EU, ReportKind.SERIOUS_INCIDENT, AWARE + timedelta(days))
    ]


def test_one_report_per_market_in_the_order_given():
    assert [m for m, _, _ in owed(Market.EU, Market.US, Market.EU, event=EventClass.DEATH)] == [
        Market.EU,
        Market.US,
    ]


@pytest.mark.parametrize(
    ("start", "days", "due"),
    [
        (datetime(2026, 12, 4, 9, tzinfo=UTC), 5, datetime(2026, 12, 11, 9, tzinfo=UTC)),  # Fri
        (datetime(2026, 12, 5, 9, tzinfo=UTC), 5, datetime(2026, 12, 11, 9, tzinfo=UTC)),  # Sat
        (datetime(2026, 12, 6, 9, tzinfo=UTC), 1, datetime(2026, 12, 7, 9, tzinfo=UTC)),  # Sun
        (datetime(2026, 12, 7, 9, tzinfo=UTC), 5, datetime(2026, 12, 14, 9, tzinfo=UTC)),  # Mon
        (datetime(2026, 12, 7, 9, tzinfo=UTC), 0, datetime(2026, 12, 7, 9, tzinfo=UTC)),
    ],
)
def test_work_days_are_monday_to_friday(start, days, due):
    assert add_work_days(start, days) == due


def test_versions_are_kept_and_a_case_without_one_uses_the_first():
    assert reporting_rules.table(None) is reporting_rules.TABLES[reporting_rules.FIRST]
    assert reporting_rules.table("2026-12").version == "2026-12"
    patch_ids = [t.patch_id for t in reporting_rules.TABLES.values()]
    assert len(set(patch_ids)) == len(patch_ids), "each version needs its own patch id"
