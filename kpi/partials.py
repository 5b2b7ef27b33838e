"""Kept per-group aggregates that a complaint's contribution can be taken out of and put back.

A figure reads a group's values as a multiset: counts and 0/1 shares are order-free, and
medians and percentiles sort. So each series is kept as a multiset: removing a
complaint's old value and inserting its new one gives exactly the values a full
recomputation would collect, and the figures come out the same to the last digit.
Durations are kept as sorted arrays; every other series (0/1 shares, counts, scores) as
value -> count. Retention counts a customer once per group (the value of the customer's
last complaint in log order), so its counts are of those per-customer values;
`kpi.incremental` works out which customer values change.
"""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kpi.compute import Group, GroupKey
from kpi.periods import Period
from kpi.sorted_values import MissingValue, SortedValues


class StalePartial(RuntimeError):
    """A value to take out is not there: the kept aggregates no longer match the facts."""


# Series whose values are spread out (durations): kept sorted. All others (0/1 shares,
# counts, scores) take few distinct values: kept as value -> count, O(1) to update.
SORTED = frozenset({"ack_hours", "close_days", "capa_cycle_days"})
RETAINED = "retained"


@dataclass
class Partial:
    key: GroupKey
    label: str  # the label of its period: the period's end can move, its label cannot
    members: int = 0
    values: dict[str, SortedValues] = field(default_factory=dict)  # the SORTED series
    counts: dict[str, dict[float, int]] = field(default_factory=dict)  # the others
    products: dict[str | None, int] = field(default_factory=dict)  # received, per product

    def add(self, name: str, value: float, key: str | None) -> None:
        if name in SORTED:
            self.values.setdefault(name, SortedValues()).add(value)
        else:
            _count(self.counts.setdefault(name, {}), value, +1)
        if name == "received":
            _count(self.products, key, +1)

    def remove(self, name: str, value: float, key: str | None) -> None:
        if name in SORTED:
            found = self.values.get(name)
            if found is None:
                raise StalePartial(f"no {name} value {value} to take out")
            try:
                found.remove(value)
            except MissingValue:
                raise StalePartial(f"no {name} value {value} to take out") from None
        else:
            _count(self.counts.get(name, {}), value, -1)
        if name == "received":
            _count(self.products, key, -1)

    def add_retained(self, value: float) -> None:
        self.add(RETAINED, value, None)

    def remove_retained(self, value: float) -> None:
        self.remove(RETAINED, value, None)

    def group(self, period: Period) -> Group:
        """The group `kpi.compute.rows` reads: the same values (in value order)."""
        group = Group(self.key, period, members=self.members)
        for name, ordered in self.values.items():
            group.value_lists[name] = ordered.flat()
        group.counted.update(self.counts)  # `Group.values` spells them out if asked
        group.key_lists["received"] = [p for p, n in self.products.items() for _ in range(n)]
        return group


def _count(counts: dict[Any, int], value: Any, step: int) -> None:
    left = counts.get(value, 0) + step
    if left < 0:
        raise StalePartial(f"no value {value!r} to take out")
    if left:
        counts[value] = left
    else:
        counts.pop(value, None)


def from_group(group: Group) -> Partial:
    """A group of a full computation (retention already counted per customer), kept."""
    partial = Partial(group.key, group.period.label, group.members)
    for name, found in group.value_lists.items():
        if name in SORTED:
            partial.values[name] = SortedValues(array("d", sorted(found)))
        else:
            partial.counts[name] = dict(Counter(found))
    partial.products = dict(Counter(group.key_lists.get("received", [])))
    return partial
