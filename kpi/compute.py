"""Figures per group over a range: observe every complaint once per period, then aggregate."""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from kpi.facts import ComplaintFacts, Facts
from kpi.figures import BY_COUNT, BY_NAME, FIGURES, SHIPMENT_FIGURE, Figure
from kpi.observe import DEFAULT_RETENTION_DAYS, Lookups, Observation, context, observe
from kpi.periods import (
    ATTRIBUTE_DIMENSIONS,
    NONE_LABEL,
    TIME_DIMENSIONS,
    Period,
    months_of,
    split,
)

GroupKey = tuple[tuple[str, str], ...]
# What one complaint adds to one group: (group, its period, the observations).
Contribution = tuple[GroupKey, Period, list[Observation]]
_SHIPMENT_DIMENSIONS = {"product", *TIME_DIMENSIONS}


KEYED = {"received", "retained"}  # series whose observations' keys a figure needs


@dataclass
class Group:
    """Values per series; the full observations (seqs) only when asked for (`explain`),
    which keeps a million-entry computation small: a float per observation, not a tuple."""

    key: GroupKey
    period: Period
    evidence: bool = False
    members: int = 0  # complaints with at least one observation here
    # Packed doubles: 8 bytes a value where a list of floats takes 32.
    value_lists: dict[str, array[float]] = field(
        default_factory=lambda: defaultdict(lambda: array("d"))
    )
    key_lists: dict[str, list[str | None]] = field(default_factory=lambda: defaultdict(list))
    series: dict[str, list[Observation]] = field(default_factory=lambda: defaultdict(list))
    # Series given as value -> count (from kept aggregates): figures read them as they are.
    counted: dict[str, dict[float, int]] = field(default_factory=dict)

    def add(self, observation: Observation) -> None:
        name = observation[0]
        self.value_lists[name].append(observation[1])
        if name in KEYED:
            self.key_lists[name].append(observation[3])
        if self.evidence:
            self.series[name].append(observation)

    def add_all(self, observations: list[Observation]) -> None:
        """`add` for each, inlined: a million observations make the method call count."""
        if self.evidence:
            for observation in observations:
                self.add(observation)
            return
        value_lists, key_lists = self.value_lists, self.key_lists
        for name, value, _seqs, key in observations:
            value_lists[name].append(value)
            if name in KEYED:
                key_lists[name].append(key)

    def values(self, name: str) -> Sequence[float]:
        found = self.value_lists.get(name)
        if found is None and name in self.counted:  # spelled out, in value order
            found = self.value_lists[name] = array("d")
            counted = self.counted[name]
            for value in sorted(counted):
                found.extend(array("d", [value]) * counted[value])
        return found if found is not None else ()

    def dedupe_retained(self) -> None:
        """Retention counts customers: the latest closure of each in the group."""
        keys = self.key_lists.get("retained")
        if not keys:
            return
        latest = dict(zip(keys, self.value_lists["retained"], strict=True))
        self.key_lists["retained"] = list(latest)
        self.value_lists["retained"] = array("d", latest.values())
        if self.evidence:
            self.series["retained"] = list({o[3]: o for o in self.series["retained"]}.values())


@dataclass
class Row:
    group: dict[str, str]
    figures: dict[str, float | None]


def _attribute(c: ComplaintFacts, dimension: str) -> str:
    value = getattr(c, dimension)
    return str(value) if value else NONE_LABEL


def contributions(
    c: ComplaintFacts, periods: list[Period], unit: str | None, attributes: list[str], ctx: Lookups
) -> list[Contribution]:
    """Everything one complaint adds to the groups of a view: the unit of incremental work."""
    found: list[Contribution] = []
    attribute_part: GroupKey | None = None
    for period in periods:
        observations = list(observe(c, period, ctx))
        if not observations:
            continue
        if attribute_part is None:
            attribute_part = tuple((d, _attribute(c, d)) for d in attributes)
        key = attribute_part + (((unit, period.label),) if unit else ())
        found.append((key, period, observations))
    return found


def view_shape(by: list[str]) -> tuple[list[str], str | None]:
    """(attribute dimensions, time dimension or None) of `--by`."""
    return [d for d in by if d in ATTRIBUTE_DIMENSIONS], next(
        (d for d in by if d in TIME_DIMENSIONS), None
    )


def first_receipt(facts: Facts) -> float:
    return min((c.received[0] for c in facts.complaints.values() if c.received), default=0.0)


def groups(
    facts: Facts,
    whole: Period,
    by: list[str],
    *,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    evidence: bool = False,
) -> list[Group]:
    attributes, unit = view_shape(by)
    periods = split(whole, unit, first=first_receipt(facts))
    ctx = context(facts, retention_days=retention_days)
    found: dict[GroupKey, Group] = {}
    for c in facts.complaints.values():
        for key, period, observations in contributions(c, periods, unit, attributes, ctx):
            group = found.get(key)
            if group is None:
                group = found[key] = Group(key, period, evidence)
            group.add_all(observations)
            group.members += 1
    for group in found.values():
        group.dedupe_retained()
    return ordered(list(found.values()), by)


def ordered(found: list[Group], by: list[str]) -> list[Group]:
    order = {d: i for i, d in enumerate(by)}
    return sorted(found, key=lambda g: sorted(g.key, key=lambda kv: order[kv[0]]))


def figure_value(figure: Figure, group: Group, facts: Facts) -> float | None:
    if figure.name == SHIPMENT_FIGURE:
        return per_million(group, facts)[0]
    counted = group.counted.get(figure.series)
    by_count = BY_COUNT.get(figure.aggregate)
    if counted is not None and by_count is not None:
        return by_count(counted)
    return figure.aggregate(group.values(figure.series))


def per_million(group: Group, facts: Facts) -> tuple[float | None, list[Observation], int]:
    """(rate, complaints counted, units) for products with shipments in the group's period.

    The complaints counted are listed only for a group that keeps its evidence."""
    dims = dict(group.key)
    if not set(dims) <= _SHIPMENT_DIMENSIONS:
        return None, [], 0
    months = set(months_of(group.period))
    units: dict[str, int] = defaultdict(int)
    for (product, month), shipment in facts.shipments.items():
        in_period = month in months if months else f"{month}-01" < _day(group.period.end)
        if in_period and dims.get("product", product) == product:
            units[product] += shipment.units
    total = sum(units.values())
    counted = [o for o in group.series.get("received", []) if o[3] in units]
    number = sum(1 for product in group.key_lists.get("received", []) if product in units)
    if total <= 0:
        return None, counted, 0
    return round(number / total * 1e6, 3), counted, total


def _day(at: float) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d")


def rows(groups_: list[Group], facts: Facts) -> list[Row]:
    return [Row(dict(g.key), {f.name: figure_value(f, g, facts) for f in FIGURES}) for g in groups_]


def lookup(name: str) -> Figure:
    return BY_NAME[name]
