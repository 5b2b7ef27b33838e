"""Every figure as one row of a table: the series it reads, how it aggregates, its definition.

`kpi show` computes them, `kpi explain` shows their evidence and the README quotes the
definitions. A figure whose denominator is empty is absent (None), never 0.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Values = Sequence[float]
Counted = dict[float, int]  # value -> how many times (kept aggregates, `kpi.partials`)
Aggregate = Callable[[Values], float | None]

# The same aggregates computed from counted values, for series whose values are whole
# numbers (0/1 shares, counts, scores): their sums are exact in any order, so the result
# is the one the list gives, to the last digit, without walking 100,000 values.
BY_COUNT: dict[Aggregate, Callable[[Counted], float | None]] = {}


def _counted(aggregate: Aggregate) -> Callable[[Callable[[Counted], float | None]], Aggregate]:
    def register(by_count: Callable[[Counted], float | None]) -> Aggregate:
        BY_COUNT[aggregate] = by_count
        return aggregate

    return register


@dataclass(frozen=True)
class Figure:
    name: str
    series: str
    aggregate: Callable[[Values], float | None]
    counts: Callable[[float], bool] | None  # which observations are the numerator
    formula: str
    basis: str
    left_out: str


def _count(values: Values) -> float | None:
    return float(len(values))


def _pct(values: Values) -> float | None:
    return round(100.0 * sum(values) / len(values), 2) if values else None


def _median(values: Values) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _p90(values: Values) -> float | None:
    """Nearest-rank 90th percentile: the smallest value with at least 90 % at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-9 * len(ordered) // 10))  # ceil(0.9 n)
    return round(ordered[rank - 1], 3)


def _mean(values: Values) -> float | None:
    return round(sum(values) / len(values), 3) if values else None


def _share(test: Callable[[float], bool]) -> Callable[[Values], float | None]:
    def share(values: Values) -> float | None:
        return _pct([1.0 if test(v) else 0.0 for v in values])

    def by_count(counted: Counted) -> float | None:
        total = sum(counted.values())
        hits = sum(n for v, n in counted.items() if test(v))
        return round(100.0 * hits / total, 2) if total else None

    return _counted(share)(by_count)


def _tally(test: Callable[[float], bool]) -> Callable[[Values], float | None]:
    def tally(values: Values) -> float | None:
        return float(sum(1 for v in values if test(v)))

    return _counted(tally)(lambda counted: float(sum(n for v, n in counted.items() if test(v))))


def _nps(values: Values) -> float | None:
    if not values:
        return None
    promoters = sum(1 for v in values if v >= 9)
    detractors = sum(1 for v in values if v <= 6)
    return round(100.0 * (promoters - detractors) / len(values), 2)


def _nps_counted(counted: Counted) -> float | None:
    total = sum(counted.values())
    if not total:
        return None
    promoters = sum(n for v, n in counted.items() if v >= 9)
    detractors = sum(n for v, n in counted.items() if v <= 6)
    return round(100.0 * (promoters - detractors) / total, 2)


def _sum(counted: Counted) -> float:
    return sum(v * n for v, n in counted.items())


BY_COUNT[_count] = lambda counted: float(sum(counted.values()))
BY_COUNT[_pct] = lambda c: round(100.0 * _sum(c) / sum(c.values()), 2) if c else None
BY_COUNT[_mean] = lambda c: round(_sum(c) / sum(c.values()), 3) if c else None
BY_COUNT[_nps] = _nps_counted


def _yes(value: float) -> bool:
    return value >= 1.0


def _top2(value: float) -> bool:
    return value >= 4


def _promoter(value: float) -> bool:
    return value >= 9


def _passive(value: float) -> bool:
    return 7 <= value <= 8


def _detractor(value: float) -> bool:
    return value <= 6


RECEIVED = "receipt (occurred_at reported upstream on complaint.received) in the period"
CLOSED = "last complaint.closed entry of the complaint in the period"
SURVEY = "complaint.survey entry recorded in the period (each response counts)"

FIGURES: tuple[Figure, ...] = (
    Figure(
        "complaints_received",
        "received",
        _count,
        None,
        "count of complaints",
        RECEIVED,
        "entries of other types; a complaint ingested now but received upstream earlier "
        "counts in its upstream period",
    ),
    Figure(
        "complaints_closed",
        "closed",
        _count,
        None,
        "count of complaints",
        CLOSED,
        "a complaint closed twice in the period counts once",
    ),
    Figure(
        "complaints_rejected",
        "rejected",
        _count,
        None,
        "count of complaints",
        "complaint.rejected entry in the period",
        "-",
    ),
    Figure(
        "open_at_end",
        "open_end",
        _count,
        None,
        "count of complaints received before the period's end whose last closure, "
        "rejection or reopening before the end leaves them open",
        "end of the period",
        "complaints received after the end",
    ),
    Figure(
        "ack_time_median_h",
        "ack_hours",
        _median,
        None,
        "median of (first complaint.acknowledged - receipt) in hours",
        RECEIVED,
        "complaints not acknowledged yet",
    ),
    Figure(
        "time_to_close_median_d",
        "close_days",
        _median,
        None,
        "median of (closure - receipt) in days",
        CLOSED,
        "complaints not closed",
    ),
    Figure(
        "time_to_close_p90_d",
        "close_days",
        _p90,
        None,
        "90th percentile (nearest rank) of (closure - receipt) in days",
        CLOSED,
        "complaints not closed",
    ),
    Figure(
        "on_time_ack_pct",
        "on_time_ack",
        _pct,
        _yes,
        "100 x acknowledged without a complaint.escalated entry of stage acknowledge / "
        "complaints acknowledged or escalated for acknowledgment",
        RECEIVED,
        "complaints neither acknowledged nor overdue yet",
    ),
    Figure(
        "on_time_close_pct",
        "on_time_close",
        _pct,
        _yes,
        "100 x closures without a closure-stage escalation since receipt or the last "
        "reopening / closures",
        CLOSED,
        "complaints not closed",
    ),
    Figure(
        "overdue_open_pct",
        "overdue_open",
        _pct,
        _yes,
        "100 x open complaints with a complaint.escalated entry (any stage) since receipt "
        "or the last reopening, before the end / open complaints",
        "end of the period",
        "closed and rejected complaints",
    ),
    Figure(
        "reopen_rate_pct",
        "reopened",
        _pct,
        _yes,
        "100 x closed complaints with a complaint.reopened entry after their first "
        "closure (any time up to as_of) / closed complaints",
        CLOSED,
        "-",
    ),
    Figure(
        "recurrence_rate_pct",
        "recurrence",
        _pct,
        _yes,
        "100 x complaints received within 90 days after the closure of another complaint "
        "with the same product and category (and, for complaints compared at intake, one "
        "the lookup found similar in text) / complaints received",
        RECEIVED,
        "complaints without a category (not triaged yet)",
    ),
    Figure(
        "capa_effective_first_pct",
        "capa_first_effective",
        _pct,
        _yes,
        "100 x first complaint.verified entries with effective=true / first verifications",
        "first verification of the complaint in the period",
        "later verifications",
    ),
    Figure(
        "capa_cycle_time_median_d",
        "capa_cycle_days",
        _median,
        None,
        "median of (last capa.action_completed - first capa.planned) in days",
        "last action completed in the period",
        "complaints without CAPA",
    ),
    Figure(
        "csat_responses",
        "csat",
        _count,
        None,
        "count of responses with a CSAT score",
        SURVEY,
        "responses with an NPS score only",
    ),
    Figure(
        "csat_top2_pct",
        "csat",
        _share(_top2),
        _top2,
        "100 x responses scoring 4 or 5 (1-5 scale) / CSAT responses",
        SURVEY,
        "-",
    ),
    Figure("csat_mean", "csat", _mean, None, "mean CSAT score (1-5)", SURVEY, "-"),
    Figure(
        "nps_responses",
        "nps",
        _count,
        None,
        "count of responses with an NPS score",
        SURVEY,
        "responses with a CSAT score only",
    ),
    Figure(
        "nps",
        "nps",
        _nps,
        None,
        "100 x (promoters (9-10) - detractors (0-6)) / NPS responses",
        SURVEY,
        "-",
    ),
    Figure(
        "promoters", "nps", _tally(_promoter), _promoter, "NPS responses scoring 9-10", SURVEY, "-"
    ),
    Figure("passives", "nps", _tally(_passive), _passive, "NPS responses scoring 7-8", SURVEY, "-"),
    Figure(
        "detractors",
        "nps",
        _tally(_detractor),
        _detractor,
        "NPS responses scoring 0-6",
        SURVEY,
        "-",
    ),
    Figure(
        "retention_pct",
        "retained",
        _pct,
        _yes,
        "100 x customers with complaint.customer_activity within the window (default 90 "
        "days) after the closure / customers whose window has passed",
        CLOSED,
        "customers whose window has not passed by as_of (the latest recorded time); a "
        "customer counts once per group (latest closure)",
    ),
    Figure(
        "complaints_per_million_units",
        "received",
        lambda _v: None,
        None,
        "complaints received for products with known shipments / units shipped "
        "(operations.shipment, latest report per product and month) x 10^6",
        RECEIVED,
        "products without shipments; groups by category, channel, severity or source",
    ),
)

BY_NAME = {figure.name: figure for figure in FIGURES}
SHIPMENT_FIGURE = "complaints_per_million_units"
