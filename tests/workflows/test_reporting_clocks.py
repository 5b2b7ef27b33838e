"""Reports to regulators follow the jurisdiction: one durable clock per owed report, from
awareness, escalated when missed; the case cannot close while one is missing; a case keeps
the rules table version it started with."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from schemas import reporting_rules
from schemas.complaint_state import ComplaintState
from schemas.decisions import (
    DeadlineStage,
    Decision,
    DeclineInvestigationInput,
    RegulatoryReportInput,
    Severity,
)
from schemas.reporting_rules import (
    ClockUnit,
    EventClass,
    Market,
    ReportKind,
    ReportRule,
    RulesTable,
)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

pytestmark = pytest.mark.clause("21 CFR 803", "EU MDR Art. 87")


def report_triage(make, aware_at: datetime | None, *markets: Market, **changes):
    fields = {
        "severity": Severity.CRITICAL,
        "reportable": True,
        "reportable_justification": "Burn injury reported",
        "markets": list(markets),
        "event_class": EventClass.SERIOUS_INJURY,
        "aware_at": aware_at,
    }
    return make.triage(**{**fields, **changes})


def report_deadlines(state: ComplaintState) -> dict[str, datetime]:
    return {
        d.report: d.due_at
        for d in state.deadlines
        if d.stage is DeadlineStage.REGULATOR_REPORT and d.active and d.report
    }


def escalated_reports(harness, complaint_id) -> list[str]:
    return [
        e.data.get("report")
        for e in harness.entries(complaint_id)
        if e.entry_type == "complaint.escalated" and e.data["stage"] == "regulator_report"
    ]


def report_escalated(state: ComplaintState) -> bool:
    return any(d.report and d.escalated_at for d in state.deadlines)


async def skip_to(harness, moment: datetime) -> None:
    now = await harness.now()
    if moment > now:
        await harness.skip(moment - now)


@pytest.mark.parametrize(
    ("event_class", "days"),
    [
        (EventClass.PUBLIC_HEALTH_THREAT, 2),
        (EventClass.DEATH, 10),
        (EventClass.SERIOUS_INJURY, 10),
        (EventClass.MALFUNCTION, 15),
    ],
)
async def test_eu_serious_incident_clock_follows_the_event_class(harness, make, event_class, days):
    handle = await harness.start()
    aware_at = (await harness.state(handle)).received_at - 6 * HOUR
    state = await harness.decide(
        handle, Decision.TRIAGE, report_triage(make, aware_at, Market.EU, event_class=event_class)
    )
    due = aware_at + days * DAY
    assert report_deadlines(state) == {"EU:serious_incident": due}
    assert state.reporting.required[0].legal_basis.startswith("EU MDR 2017/745 Art. 87")
    [deadline] = [d for d in state.deadlines if d.report == "EU:serious_incident"]
    assert deadline.what.startswith("EU MDR serious incident report")

    await skip_to(harness, due - HOUR)
    assert escalated_reports(harness, handle.id) == []
    await skip_to(harness, due + HOUR)
    await harness.wait_for(handle, lambda s: report_escalated(s))
    assert escalated_reports(harness, handle.id) == ["EU:serious_incident"]


async def test_fda_mdr_is_due_in_30_calendar_days(harness, make):
    handle = await harness.start()
    aware_at = (await harness.state(handle)).received_at - HOUR
    state = await harness.decide(
        handle,
        Decision.TRIAGE,
        report_triage(make, aware_at, Market.US, event_class=EventClass.MALFUNCTION),
    )
    assert report_deadlines(state) == {"US:mdr_30_day": aware_at + 30 * DAY}
    await skip_to(harness, aware_at + 30 * DAY - HOUR)
    assert escalated_reports(harness, handle.id) == []
    await skip_to(harness, aware_at + 30 * DAY + HOUR)
    await harness.wait_for(handle, lambda s: report_escalated(s))
    assert escalated_reports(harness, handle.id) == ["US:mdr_30_day"]


@pytest.mark.clause("ISO 13485:2016 8.2.3")
async def test_fda_5_day_report_counts_work_days_across_the_weekend(harness, make):
    """Aware on a Friday: five work days end on the next Friday, not on Wednesday."""
    handle = await harness.start()
    now = await harness.now()
    friday = now - ((now.weekday() - 4) % 7) * DAY
    assert friday.weekday() == 4 and friday <= now
    state = await harness.decide(
        handle,
        Decision.TRIAGE,
        report_triage(make, friday, Market.US, remedial_action=True),
    )
    assert report_deadlines(state) == {"US:mdr_5_day": friday + 7 * DAY}
    assert state.reporting.required[0].clock == "5 work days"

    await skip_to(harness, friday + 5 * DAY + HOUR)  # Wednesday: 3 work days have passed
    assert escalated_reports(harness, handle.id) == []
    await skip_to(harness, friday + 7 * DAY + HOUR)
    await harness.wait_for(handle, lambda s: report_escalated(s))
    assert escalated_reports(harness, handle.id) == ["US:mdr_5_day"]


@pytest.mark.clause("ISO 13485:2016 8.2.2", "ISO 13485:2016 8.2.3", "ISO 10002:2018 7.9")
async def test_a_case_cannot_close_while_a_report_is_missing(harness, make):
    handle = await harness.start()
    aware_at = (await harness.state(handle)).received_at - HOUR
    state = await harness.decide(
        handle, Decision.TRIAGE, report_triage(make, aware_at, Market.US, Market.EU)
    )
    assert report_deadlines(state) == {
        "US:mdr_30_day": aware_at + 30 * DAY,
        "EU:serious_incident": aware_at + 10 * DAY,
    }
    await harness.decide(
        handle,
        Decision.DECLINE_INVESTIGATION,
        DeclineInvestigationInput(actor=make.manager, reason="Known failure mode, CAPA-2026-7"),
    )
    reason = await harness.refused(handle, Decision.CLOSE, make.close())
    assert "the FDA MDR 30-day report and the EU MDR serious incident report" in reason
    assert "market" in reason

    reason = await harness.refused(
        handle,
        Decision.RECORD_REGULATORY_REPORT,
        RegulatoryReportInput(actor=make.manager, reference="MDR-1"),
    )
    assert "name the report's market" in reason

    state = await harness.decide(
        handle,
        Decision.RECORD_REGULATORY_REPORT,
        RegulatoryReportInput(actor=make.manager, market=Market.EU, reference="MIR-2026-DE-0042"),
    )
    [eu] = state.regulatory_reports
    assert (eu.market, eu.kind, eu.regulator) == (
        Market.EU,
        ReportKind.SERIOUS_INCIDENT,
        "EU competent authority",
    )
    assert report_deadlines(state) == {"US:mdr_30_day": aware_at + 30 * DAY}
    reason = await harness.refused(handle, Decision.CLOSE, make.close())
    assert "FDA MDR 30-day report" in reason and "EU MDR" not in reason

    state = await harness.decide(
        handle,
        Decision.RECORD_REGULATORY_REPORT,
        RegulatoryReportInput(
            actor=make.manager,
            market=Market.US,
            kind=ReportKind.MDR_30_DAY,
            reference="MDR-3001234567-2026-00042",
        ),
    )
    assert report_deadlines(state) == {}
    entry = [
        e for e in harness.entries(handle.id) if e.entry_type == "complaint.regulator_reported"
    ]
    assert entry[-1].data["input"]["market"] == "US"
    assert entry[-1].data["input"]["reference"] == "MDR-3001234567-2026-00042"
    state = await harness.decide(handle, Decision.CLOSE, make.close())
    assert state.status.value == "closed"
    await harness.result(handle)
    await harness.record(handle, "complaint-reported-per-market")


async def test_a_report_not_owed_is_refused_naming_what_is_owed(harness, make):
    handle = await harness.start()
    aware_at = (await harness.state(handle)).received_at
    await harness.decide(handle, Decision.TRIAGE, report_triage(make, aware_at, Market.EU))
    reason = await harness.refused(
        handle,
        Decision.RECORD_REGULATORY_REPORT,
        RegulatoryReportInput(actor=make.manager, market=Market.US, reference="MDR-1"),
    )
    assert "no report is owed for US" in reason and "EU serious_incident" in reason


async def test_reportable_per_market_triage_needs_markets_and_event_class(harness, make):
    handle = await harness.start()
    aware_at = (await harness.state(handle)).received_at
    reason = await harness.refused(handle, Decision.TRIAGE, report_triage(make, aware_at))
    assert "at least one markets" in reason
    reason = await harness.refused(
        handle, Decision.TRIAGE, report_triage(make, aware_at, Market.US, event_class=None)
    )
    assert "event_class" in reason


async def test_awareness_defaults_to_receipt_upstream(harness, make):
    now = await harness.now()
    handle = await harness.start(occurred_at=now - 2 * DAY)
    triage = report_triage(make, None, Market.EU, event_class=EventClass.MALFUNCTION)
    state = await harness.decide(handle, Decision.TRIAGE, triage)
    assert state.reporting.aware_at == now - 2 * DAY
    assert report_deadlines(state) == {"EU:serious_incident": now + 13 * DAY}


async def test_a_case_keeps_the_rules_table_it_started_with(harness, make, monkeypatch):
    old = await harness.start()
    assert (await harness.state(old)).reporting_rules == reporting_rules.current().version
    stricter = RulesTable(
        version="test-next",
        patch_id="reporting-rules-test-next",
        rules=(
            ReportRule(
                market=Market.EU,
                event_classes=reporting_rules.ALL_EVENTS,
                kind=ReportKind.SERIOUS_INCIDENT,
                regulator="EU competent authority",
                title="EU MDR serious incident report",
                days=3,
                unit=ClockUnit.WORK_DAYS,
                legal_basis="a later table",
            ),
        ),
    )
    monkeypatch.setitem(reporting_rules.TABLES, stricter.version, stricter)
    new = await harness.start()
    aware_at = (await harness.state(new)).received_at

    old_state = await harness.decide(old, Decision.TRIAGE, report_triage(make, aware_at, Market.EU))
    new_state = await harness.decide(new, Decision.TRIAGE, report_triage(make, aware_at, Market.EU))
    assert old_state.reporting.rules_version == "2026-12"
    assert report_deadlines(old_state) == {"EU:serious_incident": aware_at + 10 * DAY}
    assert new_state.reporting.rules_version == "test-next"
    due = reporting_rules.add_work_days(aware_at, 3)
    assert report_deadlines(new_state) == {"EU:serious_incident": due}


async def test_triage_without_markets_keeps_the_severity_clock(harness, make):
    handle = await harness.start()
    aware_at = (await harness.state(handle)).received_at
    state = await harness.decide(
        handle,
        Decision.TRIAGE,
        make.triage(
            severity=Severity.HIGH,
            reportable=True,
            regulator="FDA",
            reportable_justification="Injury",
            aware_at=aware_at,
        ),
    )
    assert state.reporting is None
    deadline = state.active_deadline(DeadlineStage.REGULATOR_REPORT)
    assert deadline.report is None and deadline.due_at == aware_at + 10 * DAY
