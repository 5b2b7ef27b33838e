"""Applying each rule of the plan to its series: which periods and groups signal, and why.

Per rule and group the first `baseline_periods` periods fix the centre and limits (or the
target and spread), the last `monitor_periods` are judged against them. Pure: facts in,
findings out, so the same data and plan always give the same findings (and signal ids).
"""

from __future__ import annotations

import hashlib
import json
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from kpi.periods import Period
from trends import charts, drift, exact
from trends.charts import Direction, Limits
from trends.plan import (
    COUNT_METRICS,
    CChartRule,
    CusumRule,
    EwmaRule,
    PoissonRule,
    Rule,
    UChartRule,
)
from trends.series import ALL, Point


@dataclass(frozen=True)
class Finding:
    rule: str
    method: str
    test: str
    up: bool
    metric: str
    group: dict[str, str]
    point: Point
    baseline: tuple[Period, Period, int]  # first, last, count
    centre: float | None = None
    lower: float | None = None
    upper: float | None = None
    p_value: float | None = None
    statistic: float | None = None
    limit: float | None = None
    rule_hash: str = ""

    @property
    def signal_id(self) -> str:
        """Same rule (and parameters), group, test and period: same id, in every run."""
        key = [self.rule, self.rule_hash, sorted(self.group.items()), self.test]
        key.append(self.point.period.label)
        digest = hashlib.sha256(json.dumps(key, separators=(",", ":")).encode()).hexdigest()
        return f"sig-{digest[:16]}"


@dataclass
class RuleOutcome:
    """What a rule looked at, for the run's audit entry."""

    groups: int = 0
    signals: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # group -> why not judged


def rule_hash(rule: Rule) -> str:
    text = json.dumps(rule.method_dump(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def evaluate(rule: Rule, series: dict[str, list[Point]]) -> tuple[list[Finding], RuleOutcome]:
    outcome = RuleOutcome()
    found: list[Finding] = []
    digest = rule_hash(rule)
    for label, points in series.items():
        base, watched = points[: rule.baseline_periods], points[rule.baseline_periods :]
        context = _Context(rule, label, base, digest)
        try:
            found.extend(_judge(rule, base, watched, context))
        except _Skip as skip:
            outcome.skipped[label] = str(skip)
            continue
        outcome.groups += 1
    outcome.signals = len(found)
    return found, outcome


class _Skip(Exception):
    """This group cannot be judged by this method (e.g. no baseline); said in the run entry."""


@dataclass(frozen=True)
class _Context:
    rule: Rule
    label: str
    base: list[Point]
    rule_hash: str

    def finding(self, test: str, up: bool, point: Point, **figures: float | None) -> Finding:
        rule = self.rule
        group = {rule.by.value: self.label} if rule.by and self.label != ALL else {}
        base = self.base
        return Finding(
            rule=rule.name,
            method=rule.method,
            test=test,
            up=up,
            metric=rule.metric,
            group=group,
            point=point,
            baseline=(base[0].period, base[-1].period, len(base)),
            rule_hash=self.rule_hash,
            **{k: (round(v, 6) if v is not None else None) for k, v in figures.items()},
        )


def _judge(rule: Rule, base: list[Point], watched: list[Point], ctx: _Context) -> list[Finding]:
    if isinstance(rule, CChartRule):
        return _c_chart(rule, base, watched, ctx)
    if isinstance(rule, UChartRule):
        return _u_chart(rule, base, watched, ctx)
    if isinstance(rule, PoissonRule):
        return _poisson(rule, base, watched, ctx)
    return _drift(rule, base, watched, ctx)


def _c_chart(
    rule: CChartRule, base: list[Point], watched: list[Point], ctx: _Context
) -> list[Finding]:
    limits = charts.c_limits([p.value or 0.0 for p in base], rule.sigma)
    if limits.centre == 0:
        raise _Skip("no events in the baseline: a c-chart has no spread (use poisson_exact)")
    values = [p.value or 0.0 for p in watched]
    return _chart_findings(
        rule.run_rules, rule.direction, watched, values, [limits] * len(values), ctx
    )


def _u_chart(
    rule: UChartRule, base: list[Point], watched: list[Point], ctx: _Context
) -> list[Finding]:
    known = [p for p in base if p.exposure]
    if len(known) < 2:
        raise _Skip("fewer than 2 baseline months with shipments")
    centre = charts.u_centre([p.count or 0 for p in known], [p.exposure or 0.0 for p in known])
    if centre == 0:
        raise _Skip("no complaints in the baseline months with shipments")
    shipped = [p for p in watched if p.exposure]
    limits = [charts.u_limits(centre, p.exposure or 1.0, rule.sigma) for p in shipped]
    rates = [(p.count or 0) / (p.exposure or 1.0) for p in shipped]
    return _chart_findings(rule.run_rules, rule.direction, shipped, rates, limits, ctx)


def _chart_findings(
    rules: Sequence[charts.RunRule],
    direction: Direction,
    points: list[Point],
    values: list[float],
    limits: list[Limits],
    ctx: _Context,
) -> list[Finding]:
    out = []
    for v in charts.violations(values, limits, rules, direction):
        lim = limits[v.index]
        point = points[v.index]
        out.append(
            ctx.finding(
                v.rule.value, v.up, point, centre=lim.centre, lower=lim.lower, upper=lim.upper
            )
        )
    return out


def _poisson(
    rule: PoissonRule, base: list[Point], watched: list[Point], ctx: _Context
) -> list[Finding]:
    current = int(sum(p.value or 0.0 for p in watched))
    baseline = int(sum(p.value or 0.0 for p in base))
    if rule.expected_per_period is not None:
        expected = rule.expected_per_period
        p_value = exact.poisson_sf(current, expected * len(watched))
    else:
        expected = baseline / len(base)
        p_value = exact.rate_increase_p(current, len(watched), baseline, len(base))
    if p_value >= rule.alpha:
        return []
    last = watched[-1]
    total = Point(last.period, float(current))
    return [
        ctx.finding(
            "poisson_exact", True, total, centre=expected, p_value=p_value, limit=rule.alpha
        )
    ]


def _drift(
    rule: EwmaRule | CusumRule, base: list[Point], watched: list[Point], ctx: _Context
) -> list[Finding]:
    known = [p.value for p in base if p.value is not None]
    target = (
        rule.target if rule.target is not None else (statistics.fmean(known) if known else None)
    )
    if target is None:
        raise _Skip("no baseline values and no target in the plan")
    spread = rule.spread
    if spread is None:
        spread = statistics.stdev(known) if len(known) >= 2 else 0.0
        if spread == 0 and rule.metric in COUNT_METRICS:
            spread = math.sqrt(target)  # Poisson counts: variance = mean
    if not spread:
        raise _Skip("no variation in the baseline and no spread in the plan")
    shown = [p for p in watched if p.value is not None]
    z = drift.standardise([p.value or 0.0 for p in shown], target, spread)
    if isinstance(rule, EwmaRule):
        alarms = drift.ewma(z, lam=rule.lam, width=rule.width, direction=rule.direction)
    else:
        alarms = drift.cusum(z, k=rule.k, h=rule.h, direction=rule.direction)
    return [
        ctx.finding(
            rule.method, a.up, shown[a.index], centre=target, statistic=a.statistic, limit=a.limit
        )
        for a in alarms
    ]
