"""The series a rule watches: one value per period and group, from the KPI facts.

Nothing here reads the audit log or re-derives a figure: each period is a `kpi.compute`
group computation on the same facts `closeloop kpi show` uses, so a signal's figure is the
figure a quality manager finds with `kpi show --from … --to … --by …`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from kpi.compute import Group, figure_value, groups, per_million
from kpi.facts import Facts
from kpi.figures import BY_NAME, SHIPMENT_FIGURE
from kpi.periods import NONE_LABEL, Period
from trends.plan import COUNT_METRICS, Rule

ALL = "(all)"  # the group of a rule without `by`


@dataclass(frozen=True)
class Point:
    period: Period
    value: float | None  # None: the figure is absent in this period (empty denominator)
    exposure: float | None = None  # u-chart: millions of units shipped
    count: int | None = None  # u-chart: complaints counted against those units


GroupSeries = dict[str, list[Point]]  # group value (or ALL) -> one point per period


class Source:
    """Group computations per (period, dimensions), shared by every rule of a run."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self._cache: dict[tuple[float, float, tuple[str, ...], bool], list[Group]] = {}

    def groups(self, period: Period, dims: tuple[str, ...], evidence: bool = False) -> list[Group]:
        key = (period.start, period.end, dims, evidence)
        if key not in self._cache:
            self._cache[key] = groups(self.facts, period, list(dims), evidence=evidence)
        return self._cache[key]


def series(source: Source, rule: Rule, periods: list[Period]) -> GroupSeries:
    if rule.metric == SHIPMENT_FIGURE:
        return _per_million(source, rule, periods)
    if rule.metric in COUNT_METRICS:
        return _counts(source, rule, periods)
    return _figures(source, rule, periods)


def _label(group: Group, rule: Rule) -> str | None:
    """The group's value of `by`; None for complaints without one (not triaged yet): they
    are no category of their own."""
    if not rule.by:
        return ALL
    value = dict(group.key).get(rule.by.value, ALL)
    return None if value == NONE_LABEL else value


def _counts(source: Source, rule: Rule, periods: list[Period]) -> GroupSeries:
    """Counts per group, 0 where a group has none in a period; `where` sums matching groups."""
    figure = BY_NAME[rule.metric]
    dims = tuple(d.value for d in ([rule.by] if rule.by else []) + list(rule.where))
    dims = tuple(dict.fromkeys(dims))
    totals: dict[str, dict[int, float]] = defaultdict(dict)
    for i, period in enumerate(periods):
        for group in source.groups(period, dims):
            key = dict(group.key)
            if any(key.get(d.value) not in values for d, values in rule.where.items()):
                continue
            label = _label(group, rule)
            if label is None:
                continue
            value = figure_value(figure, group, source.facts) or 0.0
            by_period = totals[label]
            by_period[i] = by_period.get(i, 0.0) + value
    if not rule.by:
        totals.setdefault(ALL, {})
    return {
        label: [Point(p, found.get(i, 0.0)) for i, p in enumerate(periods)]
        for label, found in sorted(totals.items())
    }


def _figures(source: Source, rule: Rule, periods: list[Period]) -> GroupSeries:
    figure = BY_NAME[rule.metric]
    dims = (rule.by.value,) if rule.by else ()
    found: dict[str, dict[int, float | None]] = defaultdict(dict)
    for i, period in enumerate(periods):
        for group in source.groups(period, dims):
            label = _label(group, rule)
            if label is not None:
                found[label][i] = figure_value(figure, group, source.facts)
    return {
        label: [Point(p, values.get(i)) for i, p in enumerate(periods)]
        for label, values in sorted(found.items())
    }


def _per_million(source: Source, rule: Rule, periods: list[Period]) -> GroupSeries:
    """Complaints and units per product and month (kpi.compute.per_million).

    A product that shipped in a month without a complaint is a rate of 0 over its units:
    kpi has no group for it (nothing observed), so its units come from the same shipment facts.
    """
    dims = (rule.by.value,) if rule.by else ()
    found: dict[str, dict[int, Point]] = defaultdict(dict)
    for i, period in enumerate(periods):
        for group in source.groups(period, dims, evidence=True):
            rate, counted, units = per_million(group, source.facts)
            label = _label(group, rule)
            if rate is not None and units > 0 and label is not None:
                found[label][i] = Point(period, rate, units / 1e6, len(counted))
        shipped: dict[str, int] = defaultdict(int)
        for (product, month), shipment in source.facts.shipments.items():
            if month == period.label:
                shipped[product if rule.by else ALL] += shipment.units
        for label, units in shipped.items():
            if units > 0 and i not in found[label]:
                found[label][i] = Point(period, 0.0, units / 1e6, 0)
    return {
        label: [points.get(i, Point(p, None)) for i, p in enumerate(periods)]
        for label, points in sorted(found.items())
    }
