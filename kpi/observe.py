"""What one complaint contributes to each series in one period: the time bases of the figures.

A series is a list of observations (value, seqs behind it, key). Figures (`kpi.figures`)
aggregate series; keeping the two apart lets `kpi explain` show the exact entries.
"""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from kpi.facts import ComplaintFacts, Facts
from kpi.periods import Period

DAY = 86400.0
RECURRENCE_WINDOW = 90 * DAY
DEFAULT_RETENTION_DAYS = 90

# (series, value, seqs, key): key names the product of a received complaint (shipments)
# or the customer of a closed one (retention counts customers, not complaints).
Observation = tuple[str, float, tuple[int, ...], str | None]


class Lookups(Protocol):
    """What one complaint's observations need to know about the others.

    Two answers to it: `Context`, indexes over every complaint in memory (a full
    computation), and `kpi.store.StoreLookups`, the same questions asked of the kept store
    (an incremental one). Both must answer exactly alike.
    """

    now: float  # the latest recorded time in the log: retention windows end before it
    retention_window: float

    def closure_before(
        self,
        product: str,
        category: str,
        start: float,
        end: float,
        complaint_id: str,
        among: frozenset[str] | None = None,
    ) -> int | None:
        """Seq of the latest closure in [start, end) of another complaint with this key.

        `among`: when the complaint was compared at intake, only the earlier complaints the
        lookup found similar count (`ComplaintFacts.similar_to`); None (received before the
        lookup existed): any complaint of the same product and category.
        """

    def active_between(self, customer_id: str, after: float, until: float) -> bool:
        """Customer activity (any complaint of the customer) in (after, until]."""


@dataclass
class Closures:
    """Closures of one product and category, ordered by (time, seq): parallel packed arrays,
    a tenth of the memory of a tuple per closure at 100,000 closures."""

    at: array[float] = field(default_factory=lambda: array("d"))
    seq: array[int] = field(default_factory=lambda: array("q"))
    complaint: list[str] = field(default_factory=list)

    def add(self, at: float, seq: int, complaint_id: str) -> None:
        self.at.append(at)
        self.seq.append(seq)
        self.complaint.append(complaint_id)

    def sort(self) -> None:
        order = sorted(range(len(self.at)), key=lambda i: (self.at[i], self.seq[i]))
        self.at = array("d", (self.at[i] for i in order))
        self.seq = array("q", (self.seq[i] for i in order))
        self.complaint = [self.complaint[i] for i in order]


@dataclass
class Context:
    """Indexes across complaints, built once per computation."""

    now: float
    retention_window: float = DEFAULT_RETENTION_DAYS * DAY
    closures: dict[tuple[str, str], Closures] = field(default_factory=dict)
    activity: dict[str, array[float]] = field(default_factory=dict)

    def closure_before(
        self,
        product: str,
        category: str,
        start: float,
        end: float,
        complaint_id: str,
        among: frozenset[str] | None = None,
    ) -> int | None:
        found = self.closures.get((product, category))
        if found is None:
            return None
        first = bisect.bisect_left(found.at, start)
        last = bisect.bisect_left(found.at, end)
        # The latest such closure: O(1) unless the window holds only this complaint's own.
        return next(
            (
                found.seq[i]
                for i in range(last - 1, first - 1, -1)
                if found.complaint[i] != complaint_id
                and (among is None or found.complaint[i] in among)
            ),
            None,
        )

    def active_between(self, customer_id: str, after: float, until: float) -> bool:
        times = self.activity.get(customer_id, ())
        i = bisect.bisect_right(times, after)
        return i < len(times) and times[i] <= until


def context(facts: Facts, *, retention_days: int = DEFAULT_RETENTION_DAYS) -> Context:
    ctx = Context(now=facts.last_time, retention_window=retention_days * DAY)
    closures, activity = ctx.closures, ctx.activity
    for c in facts.complaints.values():
        if c.product and c.category:
            for kind, at, seq in c.transitions:
                if kind == "closed":
                    key = (c.product, c.category)
                    found = closures.get(key)
                    if found is None:
                        found = closures[key] = Closures()
                    found.add(at, seq, c.complaint_id)
        if c.customer_id and c.activity:
            times = activity.get(c.customer_id)
            if times is None:
                times = activity[c.customer_id] = array("d")
            times.extend(at for at, _ in c.activity)
    for index in closures.values():
        index.sort()
    for customer, times in activity.items():
        if len(times) > 1:
            activity[customer] = array("d", sorted(times))
    return ctx


def observe(c: ComplaintFacts, p: Period, ctx: Lookups) -> Iterator[Observation]:
    received = c.received
    if received is None:
        return  # entries without a receipt (a truncated export): nothing to measure from
    r_at, r_seq = received
    if p.holds(r_at):
        yield ("received", 1.0, (r_seq,), c.product)
        yield from _on_receipt(c, r_at, r_seq, ctx)
    closed = rejected = None
    for kind, at, seq in c.transitions:
        if p.holds(at):
            if kind == "closed":
                closed = (at, seq)
            elif kind == "rejected":
                rejected = (at, seq)
    if closed is not None:
        yield from _on_closure(c, r_at, r_seq, closed, ctx)
    if rejected is not None:
        yield ("rejected", 1.0, (rejected[1],), None)
    if r_at < p.end:
        yield from _at_end(c, r_at, r_seq, p.end)
    if c.verifications and p.holds(c.verifications[0][1]):
        effective, _, seq = c.verifications[0]
        yield ("capa_first_effective", float(effective), (seq,), None)
    if c.capa_completed and c.capa_planned and p.holds(c.capa_completed[0]):
        days = (c.capa_completed[0] - c.capa_planned[0]) / DAY
        yield ("capa_cycle_days", days, (c.capa_planned[1], c.capa_completed[1]), None)
    for csat, nps, at, seq in c.surveys:
        if p.holds(at):
            if csat is not None:
                yield ("csat", float(csat), (seq,), None)
            if nps is not None:
                yield ("nps", float(nps), (seq,), None)


def _on_receipt(c: ComplaintFacts, r_at: float, r_seq: int, ctx: Lookups) -> Iterator[Observation]:
    missed = [seq for stage, _, seq in c.escalations if stage == "acknowledge"]
    if c.acknowledged is not None:
        hours = (c.acknowledged[0] - r_at) / 3600.0
        yield ("ack_hours", hours, (r_seq, c.acknowledged[1]), None)
    if c.acknowledged is not None or missed:
        evidence = (r_seq, *missed) if missed else (r_seq,)
        yield ("on_time_ack", 0.0 if missed else 1.0, evidence, None)
    if c.product and c.category:
        before = ctx.closure_before(
            c.product, c.category, r_at - RECURRENCE_WINDOW, r_at, c.complaint_id, c.similar_to
        )
        evidence = (r_seq,) if before is None else (r_seq, before)
        yield ("recurrence", 0.0 if before is None else 1.0, evidence, None)


def _on_closure(
    c: ComplaintFacts, r_at: float, r_seq: int, closed: tuple[float, int], ctx: Lookups
) -> Iterator[Observation]:
    at, seq = closed
    yield ("closed", 1.0, (seq,), None)
    yield ("close_days", (at - r_at) / DAY, (r_seq, seq), None)
    loop_start = max([t for kind, t, _ in c.transitions if kind == "reopened" and t < at] + [r_at])
    late = [s for stage, t, s in c.escalations if stage == "closure" and loop_start <= t <= at]
    yield ("on_time_close", 0.0 if late else 1.0, (seq, *late), None)
    first_close = next(t for kind, t, _ in c.transitions if kind == "closed")
    reopens = [s for kind, t, s in c.transitions if kind == "reopened" and t > first_close]
    yield ("reopened", 1.0 if reopens else 0.0, (seq, *reopens[:1]), None)
    window_end = at + ctx.retention_window
    if c.customer_id and window_end <= ctx.now:
        active = ctx.active_between(c.customer_id, at, window_end)
        yield ("retained", 1.0 if active else 0.0, (seq,), c.customer_id)


def _at_end(c: ComplaintFacts, r_at: float, r_seq: int, end: float) -> Iterator[Observation]:
    state, since = "open", r_at
    for kind, at, _ in c.transitions:
        if at >= end:
            break
        state, since = ("open", at) if kind == "reopened" else (kind, at)
    if state != "open":
        return
    yield ("open_end", 1.0, (r_seq,), None)
    late = [seq for _, at, seq in c.escalations if since <= at < end]
    yield ("overdue_open", 1.0 if late else 0.0, (r_seq, *late[:1]), None)
