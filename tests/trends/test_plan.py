"""The monitoring plan as a quality manager writes it: defaults, formats, clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trends.plan import DEFAULT_PLAN, PlanError, load_plan, parse_plan

TOML = """
version = "2026-2"
period = "week"

[[rules]]
name = "mixer-complaints"
method = "c_chart"
by = "product"
run_rules = ["beyond_limits", "nine_one_side"]

[[rules]]
name = "critical"
method = "poisson_exact"
where = { severity = ["critical"] }
alpha = 0.001
"""


def test_without_a_file_the_built_in_plan_watches_what_the_issue_lists() -> None:
    plan = load_plan(None)
    assert plan is DEFAULT_PLAN
    watched = {(r.method, r.metric, r.by.value if r.by else None) for r in plan.rules}
    assert ("c_chart", "complaints_received", "product") in watched
    assert ("c_chart", "complaints_received", "category") in watched
    assert ("u_chart", "complaints_per_million_units", "product") in watched
    assert ("ewma", "csat_mean", None) in watched and ("ewma", "nps", None) in watched
    where = {r.name: r.where for r in plan.rules}
    assert where["reportable"] and where["high-severity"]


def test_a_toml_plan_fills_in_every_default_and_hashes_them(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(TOML)
    plan = load_plan(path)
    chart = plan.rule("mixer-complaints").model_dump()
    assert chart["sigma"] == 3.0 and chart["baseline_periods"] == 12
    assert chart["run_rules"] == ["beyond_limits", "nine_one_side"]
    assert plan.rule("critical").model_dump()["alpha"] == 0.001
    # The same plan as JSON has the same hash: the hash is of the content, not the text.
    again = tmp_path / "plan.json"
    again.write_text(json.dumps(plan.canonical()))
    assert load_plan(again).content_hash == plan.content_hash


@pytest.mark.parametrize(
    ("rule", "said"),
    [
        ({"method": "ewma", "lam": 1.5}, "rule 'bad' (#1), field lam: Input should be less"),
        ({"method": "c_chart", "sigmaa": 3}, "rule 'bad' (#1), field sigmaa: Extra inputs"),
        ({"method": "c_chart", "metric": "nps"}, "rule 'bad' (#1): metric 'nps': this method"),
        ({"method": "xbar"}, "rule 'bad' (#1), field method: 'xbar' is not a method"),
        ({}, "rule 'bad' (#1), field method: missing"),
        ({"method": "c_chart", "metric": "happiness"}, "field metric: 'happiness' is not a KPI"),
        ({"method": "u_chart", "by": "channel"}, "by: shipments are known per product"),
        ({"method": "poisson_exact", "direction": "down"}, "looks for increases only"),
        ({"method": "c_chart", "by": "site"}, "field by: Input should be 'product'"),
        ({"method": "ewma", "metric": "nps", "where": {"product": ["x"]}}, "where: a filter adds"),
        ({"method": "cusum", "where": {"severity": ["hgih"]}}, "'hgih' is not a value"),
        ({"method": "cusum", "where": {"reportable": [True]}}, "field where.reportable.0"),
    ],
)
def test_a_bad_rule_is_refused_naming_the_rule_and_the_field(rule: dict, said: str) -> None:
    with pytest.raises(PlanError) as refused:
        parse_plan({"version": "1", "rules": [{"name": "bad", **rule}]})
    assert said in str(refused.value)


def test_plan_level_mistakes_are_named() -> None:
    twice = [{"name": "a", "method": "cusum"}, {"name": "a", "method": "ewma"}]
    with pytest.raises(PlanError, match="the name 'a' is used twice"):
        parse_plan({"version": "1", "rules": twice})
    with pytest.raises(PlanError, match='needs period = "month"'):
        parse_plan(
            {"version": "1", "period": "week", "rules": [{"name": "u", "method": "u_chart"}]}
        )
    with pytest.raises(PlanError, match="field rules"):
        parse_plan({"version": "1", "rules": []})


def test_unreadable_or_malformed_files_say_so(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="cannot read it"):
        load_plan(tmp_path / "missing.toml")
    broken = tmp_path / "plan.toml"
    broken.write_text("version = ")
    with pytest.raises(PlanError, match="not valid TOML"):
        load_plan(broken)
    yaml = tmp_path / "plan.yaml"
    yaml.write_text("version: 1")
    with pytest.raises(PlanError, match=r"name it \.toml or \.json"):
        load_plan(yaml)
