"""A view is what one `kpi show` asks for; its aggregates are kept so a repeat is cheap.

A view is `--by`, `--from`, `--to` and the retention window: the same view over a longer
log differs only by the complaints that new entries reach (`kpi.incremental`). Without
`--to` its range ends at the latest entry, so its last period's end moves; that is allowed,
other changes to its periods (a new month begins, an earlier receipt arrives) drop the
kept aggregates and the next `show` computes the view in full.
"""

from __future__ import annotations

import json
import pickle
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date

from kpi.compute import Group, GroupKey, ordered, view_shape
from kpi.ledger import Ledger
from kpi.partials import Partial, from_group
from kpi.periods import Period, split, whole_range
from kpi.sorted_values import SortedValues


@dataclass(frozen=True)
class View:
    by: tuple[str, ...]
    start: date | None
    end: date | None
    retention_days: int

    @property
    def id(self) -> str:
        bounds = [d.isoformat() if d else None for d in (self.start, self.end)]
        return json.dumps([list(self.by), *bounds, self.retention_days])

    @classmethod
    def from_id(cls, text: str) -> View:
        by, start, end, days = json.loads(text)
        day = date.fromisoformat
        return cls(tuple(by), day(start) if start else None, day(end) if end else None, days)

    @property
    def unit(self) -> str | None:
        return view_shape(list(self.by))[1]

    @property
    def attributes(self) -> list[str]:
        return view_shape(list(self.by))[0]

    def periods(self, *, first: float, last_time: float) -> list[Period]:
        whole = whole_range(self.start, self.end, until=last_time + 1.0)
        return split(whole, self.unit, first=first)


def key_text(key: GroupKey) -> str:
    return json.dumps(key)


_HEADER = ""


def encode(partial: Partial) -> Iterator[tuple[str, bytes]]:
    """A header (label, members, counts, products), then each sorted series as doubles."""
    header = (partial.key, partial.label, partial.members, partial.counts, partial.products)
    yield _HEADER, pickle.dumps(header, protocol=pickle.HIGHEST_PROTOCOL)
    for name, values in partial.values.items():
        yield name, values.flat().tobytes()


def decode(parts: dict[str, bytes]) -> Partial:
    # Our own file under CLOSELOOP_HOME, written by `encode`: as trusted as the keys there.
    key, label, members, counts, products = pickle.loads(parts[_HEADER])  # noqa: S301
    series: dict[str, SortedValues] = {}
    for name, blob in parts.items():
        if name != _HEADER:
            values = array("d")
            values.frombytes(blob)
            series[name] = SortedValues(values)
    return Partial(tuple(map(tuple, key)), label, members, series, counts, products)


def kept_partials(ledger: Ledger, view: View) -> dict[GroupKey, Partial] | None:
    store = ledger.store
    if store is None:
        return None
    if view.id in ledger.views:
        return ledger.views[view.id]
    blobs = store.view_partials(view.id)
    if blobs is None:
        return None
    partials = (decode(parts) for parts in blobs.values())
    found = ledger.views[view.id] = {p.key: p for p in partials}
    return found


def kept_groups(ledger: Ledger, view: View, whole: Period) -> list[Group] | None:
    """The view's groups from its kept aggregates, or None if they are not kept."""
    store = ledger.store
    partials = kept_partials(ledger, view)
    if store is None or partials is None:
        return None
    periods = {p.label: p for p in split(whole, view.unit, first=store.first_received())}
    if any(p.label not in periods for p in partials.values()):
        return None  # kept for other periods (cannot happen unless stale): compute anew
    with store.transaction():
        store.put_view(view.id, {}, used=store.next_use())
    found = [p.group(periods[p.label]) for p in partials.values()]
    return ordered(found, list(view.by))


def keep(ledger: Ledger, view: View, found: list[Group]) -> list[Group]:
    """Keep the aggregates of a view computed in full, for the repeats to update.

    Returns the same groups read from the kept aggregates: each computed group's values
    are let go as soon as they are kept, so the two are never all in memory at once.
    """
    store = ledger.store
    if store is None or store.meta.last_seq != ledger.facts.last_seq:
        return found
    partials: dict[GroupKey, Partial] = {}
    for group in found:
        partials[group.key] = from_group(group)
        group.value_lists.clear()
        group.key_lists.clear()
    ledger.views[view.id] = partials
    changed: dict[str, Iterable[tuple[str, bytes]] | None]
    changed = {key_text(k): encode(p) for k, p in partials.items()}
    with store.transaction():
        store.drop_view(view.id)
        store.put_view(view.id, changed, used=store.next_use())
        store.keep_recent_views()
    return [partials[g.key].group(g.period) for g in found]
