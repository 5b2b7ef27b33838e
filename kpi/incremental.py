"""Bringing the kept store and every kept view up to date with what new entries changed.

A complaint's contribution to a view depends on its own facts, on closures of other
complaints with its product and category (recurrence), on its customer's activity and the
log's "now" (retention), and on the view's period ends. So the complaints whose
contribution can change are: those the new entries touched; those received within the
recurrence window after a closure that appeared, moved or vanished; those closed within
the retention window before "now" moved; those with a time at or after the old end of a
range that ends at the latest entry; and all complaints of the customers among these
(retention counts a customer once per group). For each of them the old contribution
(old facts, store as it was) is taken out of the kept aggregates and the new one put in;
nothing else is read. All of it is one transaction of the store.
"""

from __future__ import annotations

from kpi.compute import Contribution, GroupKey, contributions
from kpi.facts import ComplaintFacts, seconds
from kpi.ledger import Ledger, paused_gc
from kpi.observe import DAY, RECURRENCE_WINDOW
from kpi.partials import Partial, StalePartial
from kpi.periods import Period
from kpi.store import Store, StoreLookups, decode
from kpi.views import View, encode, kept_partials, key_text

SLACK = 1.0  # seconds around window edges: finding a few complaints too many is harmless

Contributions = dict[str, list[Contribution]]


def commit(ledger: Ledger) -> None:
    """Write the touched complaints and update the kept views, or change nothing at all."""
    store, checkout = ledger.store, ledger.checkout
    if store is None or checkout is None:
        raise ValueError("commit needs a ledger loaded from a store")
    touched = ledger.facts.complaints
    before = {cid: decode(blob) if blob else None for cid, blob in checkout.before.items()}
    old_now = seconds(ledger.recorded_before) if ledger.recorded_before else 0.0
    new_now = ledger.facts.last_time
    with paused_gc(), store.transaction():
        store.check_unmoved()  # a concurrent run committed first: our "before" is not the kept
        views = []
        for view_id in store.views():
            view = View.from_id(view_id)
            partials = kept_partials(ledger, view)
            if partials is None:
                store.drop_view(view_id)
            else:
                views.append((view, partials))
        affected = _affected(store, views, before, touched, old_now, new_now)
        kept = store.rows(affected)
        old_facts = {
            cid: before[cid] if cid in touched else decode(kept[cid][1]) for cid in affected
        }
        old_ords = {cid: row[0] for cid, row in kept.items()}
        old_first = store.first_received()
        old: list[Contributions] = []
        for view, _ in views:
            periods = view.periods(first=old_first, last_time=old_now)
            lookups = StoreLookups(store.db, old_now, view.retention_days * DAY)
            old.append(_contributions(old_facts, view, periods, lookups))
        new_ords = dict(old_ords)
        next_ord = store.meta.next_ord
        for cid in touched:
            if cid not in new_ords:
                new_ords[cid], next_ord = next_ord, next_ord + 1
        store.put((new_ords[cid], c) for cid, c in touched.items())
        store.put_shipments(ledger.facts.shipments.values())
        store.put_meta(ledger.meta(next_ord))
        new_facts: dict[str, ComplaintFacts | None] = {
            cid: touched[cid] if cid in touched else old_facts[cid] for cid in affected
        }
        new_first = store.first_received()
        for (view, partials), was in zip(views, old, strict=True):
            periods = view.periods(first=new_first, last_time=new_now)
            if not _compatible(view.periods(first=old_first, last_time=old_now), periods):
                store.drop_view(view.id)  # computed in full the next time it is asked for
                ledger.views.pop(view.id, None)
                continue
            lookups = StoreLookups(store.db, new_now, view.retention_days * DAY)
            now = _contributions(new_facts, view, periods, lookups)
            changed = apply(partials, was, now, old_ords, new_ords)
            blobs = {key_text(k): encode(partials[k]) if k in partials else None for k in changed}
            store.put_view(view.id, blobs, used=store.next_use())


def _affected(
    store: Store,
    views: list[tuple[View, dict[GroupKey, Partial]]],
    before: dict[str, ComplaintFacts | None],
    touched: dict[str, ComplaintFacts],
    old_now: float,
    new_now: float,
) -> set[str]:
    found = set(touched)
    if not views:
        return found
    moved: set[tuple[str, str, float]] = set()
    for cid, c in touched.items():
        moved ^= _closures(before[cid]) ^ _closures(c)
    for product, category, at in moved:
        found |= store.ids_where(
            "product = ? AND category = ? AND received > ? AND received <= ?",
            (product, category, at - SLACK, at + RECURRENCE_WINDOW + SLACK),
        )
    for view, _ in views:
        window = view.retention_days * DAY
        found |= store.closed_between(old_now - window - SLACK, new_now - window + SLACK)
        if view.end is None:
            found |= store.ids_where("latest >= ?", (old_now - SLACK,))
    # Retention counts a customer once per group: all of a reached customer's complaints.
    customers = {
        c.customer_id for c in [*before.values(), *touched.values()] if c and c.customer_id
    }
    customers |= store.customers_of(found - set(touched))
    return found | store.of_customers(customers)


def _closures(c: ComplaintFacts | None) -> set[tuple[str, str, float]]:
    """The closures another complaint's recurrence reads: with product and category."""
    if c is None or not (c.product and c.category):
        return set()
    return {(c.product, c.category, at) for kind, at, _ in c.transitions if kind == "closed"}


def _contributions(
    facts: dict[str, ComplaintFacts | None],
    view: View,
    periods: list[Period],
    lookups: StoreLookups,
) -> Contributions:
    unit, attributes = view.unit, view.attributes
    return {
        cid: contributions(c, periods, unit, attributes, lookups)
        for cid, c in facts.items()
        if c is not None
    }


def _compatible(old: list[Period], new: list[Period]) -> bool:
    """Same periods, but for the end of the last one (a range ending at the latest entry)."""
    if len(old) != len(new):
        return False
    same = all(a == b for a, b in zip(old[:-1], new[:-1], strict=True))
    return same and (not old or (old[-1].label, old[-1].start) == (new[-1].label, new[-1].start))


def apply(
    partials: dict[GroupKey, Partial],
    old: Contributions,
    new: Contributions,
    old_ords: dict[str, int],
    new_ords: dict[str, int],
) -> set[GroupKey]:
    """Take the old contributions out, put the new ones in; the groups that changed.

    Raises `StalePartial` if an old value is not there (then the whole commit rolls back).
    """
    changed: set[GroupKey] = set()
    for cid, found in old.items():
        for key, _, observations in found:
            partial = partials.get(key)
            if partial is None:
                raise StalePartial(f"no kept group {key} for complaint {cid}")
            partial.members -= 1
            changed.add(key)
            for name, value, _, product in observations:
                if name != "retained":
                    partial.remove(name, value, product)
    for (key, _), value in _per_customer(old, old_ords).items():
        partials[key].remove_retained(value)
    for found in new.values():
        for key, period, observations in found:
            partial = partials.get(key)
            if partial is None:
                partial = partials[key] = Partial(key, period.label)
            partial.members += 1
            changed.add(key)
            for name, value, _, product in observations:
                if name != "retained":
                    partial.add(name, value, product)
    for (key, _), value in _per_customer(new, new_ords).items():
        partials[key].add_retained(value)
    for key in changed:
        if partials[key].members < 0:
            raise StalePartial(f"kept group {key} has fewer complaints than taken out")
        if partials[key].members == 0:
            del partials[key]
    return changed


def _per_customer(found: Contributions, ords: dict[str, int]) -> dict[tuple[GroupKey, str], float]:
    """Each customer's retention value per group: that of its complaint latest in log order."""
    latest: dict[tuple[GroupKey, str], tuple[int, float]] = {}
    for cid, contributed in found.items():
        for key, _, observations in contributed:
            for name, value, _, customer in observations:
                if name == "retained" and customer is not None:
                    held = latest.get((key, customer))
                    if held is None or held[0] < ords[cid]:
                        latest[(key, customer)] = (ords[cid], value)
    return {k: v for k, (_, v) in latest.items()}
