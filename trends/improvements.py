"""The improvement a new signal opens, when its rule says `open_improvement` in the plan.

Pure: the run decides what to open (an `OpenImprovement`, the improvement workflow's own
start input) and the scheduled workflow starts it as a child workflow, or `closeloop trends
run` through `base.improvements`. The improvement's id is derived from the signal's, so a
retried activity, a rerun or both paths at once can never open a second one.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from schemas.decisions import Actor
from schemas.improvement import Better, Measure, OpenImprovement
from schemas.quality_signal import QualitySignal, Way
from trends.plan import MonitoringPlan, Rule

PERIOD_LENGTH = {"month": timedelta(days=30), "week": timedelta(days=7)}


def excursion_starts(new: list[QualitySignal], known: list[QualitySignal]) -> list[QualitySignal]:
    """The new signals that start an excursion: one improvement per problem, not one a month.

    A new signal continues an excursion when its rule and group also signalled in the period
    just before (any test, in this run or an earlier one, as `known`, the audit log, holds);
    of several tests firing for one rule, group and period, the first counts."""
    ended = {(s.rule, _group(s), s.period_end) for s in known}
    taken: set[tuple[str, tuple[tuple[str, str], ...], str]] = set()
    starts = []
    for signal in sorted(new, key=lambda s: s.period_start):
        here = (signal.rule, _group(signal), signal.period_start)
        if here in ended or here in taken:
            continue
        taken.add(here)
        starts.append(signal)
    return starts


def _group(signal: QualitySignal) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(signal.group.items()))


def improvement_id(signal_id: str) -> str:
    """`IMP-sig-…`: one improvement per signal, whoever starts it and however often."""
    return f"IMP-{signal_id}"


def opener(rule: str) -> Actor:
    """The system actor the improvement's audit entry names: the rule that asked for it."""
    return Actor(id=f"trends:{rule}", name="Closeloop trend analysis")


def measure(signal: QualitySignal, rule: Rule, plan: MonitoringPlan) -> Measure:
    """The figure the signal is about, for its group; a `where` filter with one value is kept
    (a measure filters by one value per dimension: a list such as severity high or critical
    is named in the problem statement instead)."""
    filters = dict(signal.group)
    for dimension, values in rule.where.items():
        if len(values) == 1:
            filters.setdefault(dimension.value, values[0])
    setting = rule.open_improvement
    return Measure(
        figure=signal.metric,
        filters=filters,
        better=Better.LOWER if signal.direction is Way.UP else Better.HIGHER,
        periods=setting.periods if setting else 3,
        period=PERIOD_LENGTH[plan.period],
    )


def problem(signal: QualitySignal, rule: Rule) -> str:
    group = ", ".join(f"{k}={v}" for k, v in signal.group.items()) or "all complaints"
    where = "; ".join(f"{d.value} in {', '.join(v)}" for d, v in rule.where.items())
    limit = _limit(signal)
    return (
        f"Trend signal {signal.signal_id}: {signal.metric} for {group}"
        f"{f' ({where})' if where else ''} went {signal.direction.value} in {signal.period} "
        f"({signal.period_start} to {signal.period_end}): {signal.value:g}{limit}. "
        f"Rule {signal.rule} ({signal.method.value}, {signal.test.value}); baseline "
        f"{signal.baseline_from} to {signal.baseline_to}."
    )


def _limit(signal: QualitySignal) -> str:
    centre = f"{signal.centre:g}" if signal.centre is not None else "?"
    if signal.upper is not None and signal.lower is not None:
        return f" against limits {signal.lower:g} to {signal.upper:g} (centre {centre})"
    if signal.p_value is not None and signal.limit is not None:
        return f" against an expected {centre} (p = {signal.p_value:.2g} < {signal.limit:g})"
    if signal.statistic is not None and signal.limit is not None:
        return f", statistic {signal.statistic:.3g} beyond its limit {signal.limit:.3g}"
    return ""


def to_open(signal: QualitySignal, rule: Rule, plan: MonitoringPlan) -> OpenImprovement | None:
    """What to open for this signal, or None when its rule opens no improvement."""
    setting = rule.open_improvement
    if setting is None:
        return None
    return OpenImprovement(
        improvement_id=improvement_id(signal.signal_id),
        opened_by=opener(rule.name),
        owner=setting.owner,
        problem=problem(signal, rule),
        signal_id=signal.signal_id,
        measure=measure(signal, rule, plan),
        comment=(
            f"Opened by trend run {signal.run_id}: rule {rule.name} of monitoring plan "
            f"{plan.version} ({plan.content_hash[:12]}) says open_improvement"
        ),
    )


def link(opened: OpenImprovement) -> dict[str, Any]:
    """What the run's audit entry keeps of each improvement it opens."""
    return {
        "signal_id": opened.signal_id,
        "improvement_id": opened.improvement_id,
        "owner": opened.owner,
    }
