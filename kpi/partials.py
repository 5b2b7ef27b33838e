"""Kept per-group aggregates that a complaint's contribution can be taken out of and put back.

A figure reads a group's values as a multiset: counts and 0/1 shares are order-free, and
medians and percentiles sort. So each series is kept as a sorted array: removing a
complaint's old value and inserting its new one gives exactly the values a full
recomputation would collect, and the figures come out the same to the last digit.
Retention counts a customer once per group (the value of the customer's last complaint in
log order), so its array holds those per-customer values; `kpi.incremental` works out
which customer values change.
"""

from __future__ import annotations

import bisect
from array import array
from dataclasses import dataclass, field

from kpi.compute import Group, GroupKey
from kpi.periods import Period


class StalePartial(RuntimeError):
    """A value to take out is not there: the kept aggregates no longer match the facts."""


@dataclass
class Partial:
    key: GroupKey
    label: str  # the label of its period: the period's end can move, its label cannot
    members: int = 0
    values: dict[str, array[float]] = field(default_factory=dict)  # sorted, per series
    products: dict[str | None, int] = field(default_factory=dict)  # received, per product
    retained: array[float] = field(default_factory=lambda: array("d"))  # sorted, per customer

    def add(self, name: str, value: float, key: str | None) -> None:
        bisect.insort(self.values.setdefault(name, array("d")), value)
        if name == "received":
            self.products[key] = self.products.get(key, 0) + 1

    def remove(self, name: str, value: float, key: str | None) -> None:
        _take(self.values.get(name), value)
        if name == "received":
            left = self.products.get(key, 0) - 1
            if left < 0:
                raise StalePartial(f"no received complaint of product {key!r} to take out")
            if left:
                self.products[key] = left
            else:
                del self.products[key]

    def add_retained(self, value: float) -> None:
        bisect.insort(self.retained, value)

    def remove_retained(self, value: float) -> None:
        _take(self.retained, value)

    def group(self, period: Period) -> Group:
        """The group `kpi.compute.rows` reads (values shared with this partial, not copied)."""
        group = Group(self.key, period, members=self.members)
        group.value_lists.update(self.values)
        if self.retained:
            group.value_lists["retained"] = self.retained
        group.key_lists["received"] = [p for p, n in self.products.items() for _ in range(n)]
        return group


def _take(values: array[float] | None, value: float) -> None:
    if values is None:
        raise StalePartial(f"no value {value} to take out")
    i = bisect.bisect_left(values, value)
    if i == len(values) or values[i] != value:
        raise StalePartial(f"no value {value} to take out")
    del values[i]


def from_group(group: Group) -> Partial:
    """A group of a full computation (retention already counted per customer), kept."""
    values = {
        name: array("d", sorted(found))
        for name, found in group.value_lists.items()
        if name != "retained"
    }
    products: dict[str | None, int] = {}
    for product in group.key_lists.get("received", []):
        products[product] = products.get(product, 0) + 1
    retained = array("d", sorted(group.value_lists.get("retained", ())))
    return Partial(group.key, group.period.label, group.members, values, products, retained)
