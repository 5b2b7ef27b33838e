"""The analysis on audit logs with a known story: which signals, with which figures.

Each expected figure is worked out from the story in conftest.py, not from the code.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from audit.store import AuditLog, EntryFilter
from tests.kpi.builder import LogBuilder
from tests.trends.conftest import AS_OF, BASELINE, MIXER, MONTHS, WATCHED, MonthlyLog
from trends import records
from trends.exact import rate_increase_p
from trends.plan import DEFAULT_PLAN, MonitoringPlan, parse_plan
from trends.run import RunReceipt, analyse

NOW = datetime(2026, 10, 15, 5, 0, tzinfo=UTC)


def plan_of(*rules: dict[str, Any], version: str = "t-1") -> MonitoringPlan:
    return parse_plan({"version": version, "rules": list(rules)})


def run(log: AuditLog, plan: MonitoringPlan, tmp_path: Path, run_id: str = "r1") -> RunReceipt:
    return analyse(
        log,
        plan,
        plan_source="test",
        home=tmp_path / "home",
        database_label=str(log.engine.url),
        run_id=run_id,
        as_of=date.fromisoformat(AS_OF),
        now=NOW,
    )


def signals_of(log: AuditLog, rule: str) -> list[Any]:
    return [s for _, s in records.signals(log) if s.rule == rule]


def test_a_step_in_one_product_is_signalled_at_each_month_beyond_the_upper_limit(
    step_log: AuditLog, tmp_path: Path
) -> None:
    plan = plan_of({"name": "by-product", "method": "c_chart", "by": "product"})
    receipt = run(step_log, plan, tmp_path)

    found = signals_of(step_log, "by-product")
    centre = sum(MIXER[:12]) / 12  # 20
    assert [(s.period, s.test, s.group, s.value) for s in found] == [
        ("2026-07", "beyond_limits", {"product": "mixer"}, 40.0),
        ("2026-08", "beyond_limits", {"product": "mixer"}, 41.0),
        ("2026-09", "beyond_limits", {"product": "mixer"}, 39.0),
    ]  # the kettle, 5 every month, gives none
    assert found[0].centre == centre
    assert found[0].upper == pytest.approx(centre + 3 * math.sqrt(centre), abs=1e-6)
    assert (found[0].baseline_from, found[0].baseline_to) == (BASELINE[0], BASELINE[-1])
    assert receipt.window_start == "2025-01-01" and receipt.window_end == "2026-10-01"
    assert sorted(receipt.new_signals) == sorted(s.signal_id for s in found)


def test_a_signal_figure_is_the_count_in_the_log(step_log: AuditLog, tmp_path: Path) -> None:
    run(step_log, plan_of({"name": "by-product", "method": "c_chart", "by": "product"}), tmp_path)
    [july, *_] = signals_of(step_log, "by-product")
    received = step_log.entries(EntryFilter(entry_type="complaint.received"))
    counted = sum(
        1
        for e in received
        if e.data["product_sku"] == "mixer" and e.data["received_upstream_at"].startswith("2026-07")
    )
    assert july.value == counted == 40


def test_a_second_run_finds_the_same_signals_and_audits_them_once(
    step_log: AuditLog, tmp_path: Path
) -> None:
    plan = plan_of({"name": "by-product", "method": "c_chart", "by": "product"})
    first = run(step_log, plan, tmp_path, "r1")
    second = run(step_log, plan, tmp_path, "r2")
    assert second.signals == first.signals and second.new_signals == []
    assert len(records.signals(step_log)) == 3
    assert [e.data["run_id"] for e in records.runs(step_log)] == ["r1", "r2"]
    assert len(records.plans(step_log)) == 1
    assert first.plan_seq == second.plan_seq


def test_every_change_of_the_plan_is_an_audit_entry_and_each_run_names_its_plan(
    step_log: AuditLog, tmp_path: Path
) -> None:
    a = plan_of({"name": "by-product", "method": "c_chart", "by": "product"})
    b = plan_of({"name": "by-product", "method": "c_chart", "by": "product", "sigma": 2.5})
    receipts = [run(step_log, p, tmp_path, f"r{i}") for i, p in enumerate([a, a, b, a])]
    plans = records.plans(step_log)
    assert [e.data["plan_hash"] for e in plans] == [a.content_hash, b.content_hash, a.content_hash]
    assert plans[1].data["previous_hash"] == a.content_hash
    assert plans[1].data["plan"]["rules"][0]["sigma"] == 2.5  # the method in force, in full
    assert [r.plan_seq for r in receipts] == [
        plans[0].seq,
        plans[0].seq,
        plans[1].seq,
        plans[2].seq,
    ]
    # A changed method is another signal: the ids carry the rule's parameters.
    assert set(receipts[2].signals).isdisjoint(receipts[0].signals)


def test_the_run_entry_holds_the_window_and_the_result(step_log: AuditLog, tmp_path: Path) -> None:
    receipt = run(step_log, DEFAULT_PLAN, tmp_path)
    [entry] = records.runs(step_log)
    assert entry.seq == receipt.run_seq
    data = entry.data
    # The longest rule of the default plan (EWMA, CUSUM: 12 + 12 months) sets the window.
    assert (data["window_start"], data["window_end"]) == ("2024-10-01", "2026-10-01")
    assert data["as_of"] == AS_OF and data["tree_size"] > 0
    assert set(data["rules"]) == {r.name for r in DEFAULT_PLAN.rules}
    assert data["rules"]["complaints-by-product"]["signals"] == 3
    assert data["signals"] == receipt.signals
    # Untriaged complaints form no category; no shipments: the u-chart judges nothing.
    assert data["rules"]["complaints-by-category"]["groups"] == 0
    assert data["rules"]["complaints-per-million-units"]["groups"] == 0


def test_reportable_complaints_are_judged_by_the_exact_poisson_test(
    monthly: MonthlyLog, log: AuditLog, tmp_path: Path
) -> None:
    for month in MONTHS[:-1]:
        monthly.complaints(month, 1, reportable=True)
        monthly.complaints(month, 3, reportable=False)
    monthly.complaints(MONTHS[-1], 5, reportable=True)
    plan = plan_of(
        {"name": "reportable", "method": "poisson_exact", "where": {"reportable": ["yes"]}}
    )
    run(log, plan, tmp_path)
    [signal] = signals_of(log, "reportable")
    assert (signal.period, signal.value, signal.group) == ("2026-09", 5.0, {})
    assert signal.p_value == pytest.approx(rate_increase_p(5, 1, 12, 12), rel=1e-5)
    assert signal.centre == 1.0  # expected a month, from the 12 baseline months


def test_complaints_per_million_units_follow_the_shipments(
    monthly: MonthlyLog, log: AuditLog, tmp_path: Path
) -> None:
    b = LogBuilder(log)
    for month in MONTHS:
        b.shipment("mixer", month, 1_000_000)
        monthly.complaints(month, 40 if month == "2026-09" else 20)
    b.shipment("mixer", "2026-08", 2_000_000)  # restated: 20 per 2 million is 10 per million
    plan = plan_of({"name": "ppm", "method": "u_chart", "by": "product", "direction": "both"})
    run(log, plan, tmp_path)
    found = {(s.period, s.direction.value): s for s in signals_of(log, "ppm")}
    assert set(found) == {("2026-09", "up"), ("2026-08", "down")}
    assert found[("2026-09", "up")].value == 40.0
    assert found[("2026-09", "up")].upper == pytest.approx(20 + 3 * math.sqrt(20), abs=1e-5)
    assert found[("2026-08", "down")].lower == pytest.approx(20 - 3 * math.sqrt(20 / 2), abs=1e-5)


def test_a_fall_in_csat_is_caught_by_the_ewma(
    monthly: MonthlyLog, log: AuditLog, tmp_path: Path
) -> None:
    for i, month in enumerate(MONTHS):
        score = 2 if month in WATCHED[-3:] else (4 if i % 2 else 5)
        monthly.complaints(month, 2, csat=score)
    plan = plan_of(
        {"name": "csat", "method": "ewma", "metric": "csat_mean", "direction": "down",
         "monitor_periods": 9}
    )  # fmt: skip
    run(log, plan, tmp_path)
    found = signals_of(log, "csat")
    assert found and found[0].period == "2026-07" and found[0].direction.value == "down"
    assert found[0].centre == 4.5
