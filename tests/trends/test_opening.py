"""A new signal of a rule with `open_improvement` opens one improvement, worded from the
signal, measuring the signal's figure for its group; nothing else opens one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from audit.store import AuditLog
from schemas.improvement import Better
from tests.trends.conftest import AS_OF
from trends import records
from trends.analysis import rule_hash
from trends.plan import DEFAULT_PLAN, PlanError, load_plan, parse_plan
from trends.run import RunReceipt, analyse

OWNED: dict[str, Any] = {
    "version": "owned-1",
    "rules": [
        {
            "name": "complaints-by-product",
            "method": "c_chart",
            "by": "product",
            "open_improvement": {"owner": "quality-lead"},
        },
        {"name": "complaints-by-channel", "method": "c_chart", "by": "channel"},
    ],
}


def run(log: AuditLog, tmp_path: Path, plan_data: dict, run_id: str) -> RunReceipt:
    return analyse(
        log,
        parse_plan(plan_data),
        plan_source="test",
        home=tmp_path / "home",
        database_label=str(log.engine.url),
        run_id=run_id,
        as_of=date.fromisoformat(AS_OF),
        now=datetime(2026, 10, 15, 6, tzinfo=UTC),
    )


def test_the_step_opens_one_improvement_for_the_month_it_started(
    step_log: AuditLog, tmp_path: Path
) -> None:
    receipt = run(step_log, tmp_path, OWNED, "first")
    by_product = [s for e, s in records.signals(step_log) if s.rule == "complaints-by-product"]
    assert [s.period for s in by_product] == ["2026-07", "2026-08", "2026-09"]
    assert any(s.rule == "complaints-by-channel" for _, s in records.signals(step_log))

    [opened] = receipt.improvements  # August and September continue July's excursion
    july = by_product[0]
    assert opened.signal_id == july.signal_id
    assert opened.improvement_id == f"IMP-{july.signal_id}"
    assert opened.owner == "quality-lead"
    assert opened.opened_by.id == "trends:complaints-by-product"
    assert opened.measure.figure == "complaints_received"
    assert opened.measure.filters == {"product": "mixer"}
    assert opened.measure.better is Better.LOWER
    assert opened.measure.period == timedelta(days=30)
    assert "complaints_received for product=mixer" in opened.problem
    assert "2026-07" in opened.problem and "40" in opened.problem and "limits" in opened.problem

    [entry] = records.runs(step_log)
    assert entry.data["improvements"] == [
        {"signal_id": july.signal_id, "improvement_id": opened.improvement_id,
         "owner": "quality-lead"}
    ]  # fmt: skip


def test_a_second_run_over_the_same_signals_opens_nothing(
    step_log: AuditLog, tmp_path: Path
) -> None:
    assert len(run(step_log, tmp_path, OWNED, "first").improvements) == 1
    again = run(step_log, tmp_path, OWNED, "second")
    assert again.signals and again.new_signals == []
    assert again.improvements == []


def test_rules_without_an_owner_open_nothing(step_log: AuditLog, tmp_path: Path) -> None:
    receipt = run(step_log, tmp_path, DEFAULT_PLAN.canonical(), "built-in")
    assert receipt.new_signals  # the built-in plan signals the step too
    assert receipt.improvements == []
    assert records.runs(step_log)[0].data["improvements"] == []


def test_naming_an_owner_keeps_the_signals_and_the_plans_of_old_files() -> None:
    plain = parse_plan({**OWNED, "rules": [{**OWNED["rules"][0], "open_improvement": None}]})
    owned = parse_plan(OWNED)
    assert rule_hash(plain.rules[0]) == rule_hash(owned.rules[0])  # same signal ids
    assert "open_improvement" not in plain.canonical()["rules"][0]  # old plans keep their hash
    assert owned.content_hash != plain.content_hash  # the change is audited as a new plan


def test_an_owner_left_empty_is_refused_naming_the_rule_and_field() -> None:
    bad = {**OWNED, "rules": [{**OWNED["rules"][0], "open_improvement": {"owner": " "}}]}
    with pytest.raises(PlanError, match=r"rule 'complaints-by-product' \(#1\), field "
                       r"open_improvement\.owner"):  # fmt: skip
        parse_plan(bad)


def test_the_setting_is_written_as_the_readme_shows(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(
        'version = "2026-3"\n\n[[rules]]\nname = "mixer-complaints"\nmethod = "c_chart"\n'
        'by = "product"\nopen_improvement = { owner = "quality-lead", periods = 2 }\n',
        encoding="utf-8",
    )
    [rule] = load_plan(path).rules
    assert rule.open_improvement is not None
    assert (rule.open_improvement.owner, rule.open_improvement.periods) == ("quality-lead", 2)
