"""Per-complaint facts folded from audit entries, one entry at a time, in seq order.

Folding is the only place that knows entry shapes (see workflows/receipt.py, facts.py,
escalation.py, lifecycle.py). Everything downstream reads these facts, so a figure never
re-reads the log, and the facts can be kept between runs (see `kpi.ledger`).
Times are POSIX seconds (UTC); every fact keeps the seq of the entry it came from.
"""

from __future__ import annotations

import json
import operator
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SHIPMENT_ENTRY = "operations.shipment"

Stamp = tuple[float, int]  # (time, seq)


@dataclass(slots=True)
class ComplaintFacts:
    complaint_id: str
    received: Stamp | None = None
    product: str | None = None
    channel: str | None = None
    source: str | None = None
    customer_id: str | None = None
    category: str | None = None
    severity: str | None = None
    reportable: str | None = None  # "yes" / "no" as triage decided (trend rules filter on it)
    acknowledged: Stamp | None = None
    # Ends and reopenings, in log order: ("closed" | "rejected" | "reopened", time, seq).
    transitions: list[tuple[str, float, int]] = field(default_factory=list)
    escalations: list[tuple[str, float, int]] = field(default_factory=list)  # (stage, t, seq)
    capa_planned: Stamp | None = None  # the first plan
    capa_completed: Stamp | None = None  # the latest action completed
    verifications: list[tuple[bool, float, int]] = field(default_factory=list)
    surveys: list[tuple[int | None, int | None, float, int]] = field(default_factory=list)
    activity: list[Stamp] = field(default_factory=list)
    # The earlier complaints the lookup at intake found similar (None: no lookup was made).
    similar_to: frozenset[str] | None = None

    def __getstate__(self) -> tuple[Any, ...]:
        return _STATE(self)  # type: ignore[no-any-return]

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        """Loading kept facts (`kpi.ledger`): the repeated strings are shared as they arrive.

        The file holds them once per complaint; interning each one here, rather than after
        the whole load, keeps 100,000 complaints' duplicates from being alive at once.
        """
        for name, value in zip(_FIELDS, state, strict=True):
            setattr(self, name, sys.intern(value) if name in _SHARED and value else value)


_FIELDS = tuple(ComplaintFacts.__dataclass_fields__)
_SHARED = frozenset({"product", "channel", "source", "category", "severity", "reportable"})
_STATE = operator.attrgetter(*_FIELDS)  # every field at once, in C: the store writes 100,000


@dataclass(slots=True)
class Shipment:
    """Units the ERP reported for one product and month; the latest report wins."""

    product: str
    period: str  # YYYY-MM
    units: int
    seq: int


@dataclass
class Facts:
    """Everything the figures need, and how far into the log it goes.

    With a `loader` (the kept store, `kpi.store`), `complaints` holds only the complaints
    that the entries folded in this run touch: each is loaded when its first new entry
    arrives, so a repeat reads what is new and not every complaint.
    """

    complaints: dict[str, ComplaintFacts] = field(default_factory=dict)
    shipments: dict[tuple[str, str], Shipment] = field(default_factory=dict)
    last_seq: int = 0
    last_recorded: str = ""  # latest recorded time seen, as stored: "now" as the log knows it
    loader: Callable[[str], ComplaintFacts | None] | None = None

    @property
    def last_time(self) -> float:
        return seconds(self.last_recorded) if self.last_recorded else 0.0

    def complaint(self, complaint_id: str) -> ComplaintFacts:
        found = self.complaints.get(complaint_id)
        if found is None:
            kept = self.loader(complaint_id) if self.loader else None
            found = self.complaints[complaint_id] = kept or ComplaintFacts(complaint_id)
        return found


def latest_time(c: ComplaintFacts) -> float | None:
    """The latest time the complaint's facts hold: a period ending before it may differ.

    Every time a period is compared with (and a few more) counts, so that a complaint
    whose times all lie before a moved period end is known to be unchanged by the move.
    """
    latest = max(
        (
            stamp[0]
            for stamp in (c.received, c.acknowledged, c.capa_planned, c.capa_completed)
            if stamp
        ),
        default=None,
    )
    for items in (c.transitions, c.escalations, c.verifications):
        for item in items:
            if latest is None or item[1] > latest:
                latest = item[1]
    for survey in c.surveys:
        if latest is None or survey[2] > latest:
            latest = survey[2]
    for at, _ in c.activity:
        if latest is None or at > latest:
            latest = at
    return latest


def seconds(text: str) -> float:
    """RFC 3339 text (stored `...Z` or Python isoformat) as POSIX seconds."""
    return datetime.fromisoformat(text).timestamp()


def _interned(value: Any) -> str | None:
    """Products, channels and categories repeat across 100,000s of complaints: one copy."""
    return sys.intern(value) if isinstance(value, str) else None


def _received(facts: Facts, c: ComplaintFacts, at: float, seq: int, data: dict[str, Any]) -> None:
    upstream = data.get("received_upstream_at")
    c.received = (seconds(upstream) if upstream else at, seq)
    c.product = _interned(data.get("product_sku"))
    c.channel = _interned(data.get("channel"))
    c.source = _interned(data.get("source"))
    c.customer_id = data.get("customer_id")
    similar = data.get("similar")
    if isinstance(similar, dict) and isinstance(similar.get("suggestions"), list):
        c.similar_to = frozenset(
            str(s.get("complaint_id")) for s in similar["suggestions"] if isinstance(s, dict)
        )


def _acknowledged(facts: Facts, c: ComplaintFacts, at: float, seq: int, d: dict[str, Any]) -> None:
    if c.acknowledged is None:
        c.acknowledged = (at, seq)


def _triaged(facts: Facts, c: ComplaintFacts, at: float, seq: int, data: dict[str, Any]) -> None:
    given = data.get("input") or {}
    c.category = _interned(given.get("category")) or c.category
    c.severity = _interned(given.get("severity")) or c.severity
    reportable = given.get("reportable")
    if isinstance(reportable, bool):
        c.reportable = "yes" if reportable else "no"


def _transition(kind: str) -> Callable[[Facts, ComplaintFacts, float, int, dict[str, Any]], None]:
    def fold(facts: Facts, c: ComplaintFacts, at: float, seq: int, data: dict[str, Any]) -> None:
        c.transitions.append((kind, at, seq))

    return fold


def _escalated(facts: Facts, c: ComplaintFacts, at: float, seq: int, data: dict[str, Any]) -> None:
    c.escalations.append((str(data.get("stage")), at, seq))


def _planned(facts: Facts, c: ComplaintFacts, at: float, seq: int, data: dict[str, Any]) -> None:
    if c.capa_planned is None:
        c.capa_planned = (at, seq)


def _completed(facts: Facts, c: ComplaintFacts, at: float, seq: int, data: dict[str, Any]) -> None:
    c.capa_completed = (at, seq)


def _verified(facts: Facts, c: ComplaintFacts, at: float, seq: int, data: dict[str, Any]) -> None:
    c.verifications.append((bool((data.get("input") or {}).get("effective")), at, seq))


def _survey(facts: Facts, c: ComplaintFacts, at: float, seq: int, data: dict[str, Any]) -> None:
    given = data.get("input") or {}
    csat, nps = given.get("csat"), given.get("nps")
    c.surveys.append((csat if _score(csat) else None, nps if _score(nps) else None, at, seq))


def _score(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _activity(facts: Facts, c: ComplaintFacts, at: float, seq: int, data: dict[str, Any]) -> None:
    upstream = data.get("occurred_at")
    c.activity.append((seconds(upstream) if upstream else at, seq))


FOLDS: dict[str, Callable[[Facts, ComplaintFacts, float, int, dict[str, Any]], None]] = {
    "complaint.received": _received,
    "complaint.acknowledged": _acknowledged,
    "complaint.triaged": _triaged,
    "complaint.closed": _transition("closed"),
    "complaint.rejected": _transition("rejected"),
    "complaint.reopened": _transition("reopened"),
    "complaint.escalated": _escalated,
    "capa.planned": _planned,
    "capa.action_completed": _completed,
    "complaint.verified": _verified,
    "complaint.survey": _survey,
    "complaint.customer_activity": _activity,
}


# Entries whose time is all a figure reads: their data is not parsed.
TIME_ONLY = frozenset(
    {
        "complaint.acknowledged",
        "complaint.closed",
        "complaint.rejected",
        "complaint.reopened",
        "capa.planned",
        "capa.action_completed",
    }
)


def fold(
    facts: Facts,
    seq: int,
    complaint_id: str,
    entry_type: str,
    occurred_at: str,
    recorded_at: str,
    data: str | dict[str, Any],
) -> None:
    """Apply one entry (as stored: times as text, data as JSON text or already parsed)."""
    facts.last_seq = seq
    if recorded_at > facts.last_recorded:  # fixed-width UTC text sorts like time
        facts.last_recorded = recorded_at
    handler = FOLDS.get(entry_type)
    if handler is None and entry_type != SHIPMENT_ENTRY:
        return  # an entry no figure reads
    parsed: Any = {}
    if entry_type not in TIME_ONLY:  # parsing JSON is most of a fold's cost: only if read
        parsed = json.loads(data) if isinstance(data, str) else data
        if not isinstance(parsed, dict):
            parsed = {}
    at = seconds(occurred_at)
    if handler is None:
        _shipment(facts, seq, parsed)
        return
    handler(facts, facts.complaint(complaint_id), at, seq, parsed)


def _shipment(facts: Facts, seq: int, data: dict[str, Any]) -> None:
    product, period, units = data.get("product"), data.get("period"), data.get("units")
    if isinstance(product, str) and isinstance(period, str) and isinstance(units, int):
        facts.shipments[(product, period)] = Shipment(product, period, units, seq)
