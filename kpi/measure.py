"""Measuring one KPI figure per period for an improvement's check, as an activity.

The improvement's workflow may not read the audit log; it asks this activity, by name
(`schemas.improvement.MEASURE_ACTIVITY`), for the figure `closeloop kpi show` would print
for each period, with the same definitions and the same filters by dimension. The answer
names the audit log's tree size and root hash it was computed at, so the check can be
recomputed by an auditor from an export of that size.
"""

from __future__ import annotations

import threading
from pathlib import Path

from temporalio import activity
from temporalio.exceptions import ApplicationError

from audit.store import AuditLog
from kpi import service
from kpi.compute import figure_value, groups
from kpi.figures import BY_NAME
from kpi.periods import ATTRIBUTE_DIMENSIONS, Period
from schemas.improvement import MEASURE_ACTIVITY, FigureMeasured, MeasureFigure


def measure(log: AuditLog, home: Path, request: MeasureFigure) -> FigureMeasured:
    """The figure for each period of `request`, filtered by its dimensions."""
    figure = BY_NAME.get(request.measure.figure)
    if figure is None:
        raise ValueError(
            f"{request.measure.figure!r} is not a figure; choose from {', '.join(BY_NAME)}"
        )
    filters = request.measure.filters
    unknown = sorted(set(filters) - set(ATTRIBUTE_DIMENSIONS))
    if unknown:
        raise ValueError(
            f"cannot filter by {', '.join(unknown)}; choose from {', '.join(ATTRIBUTE_DIMENSIONS)}"
        )
    ledger, _checkpoint = service.from_log(log, home, label=f"improvement:{log.engine.url}")
    facts = ledger.all_facts()  # every complaint, not only those the new entries touched
    by = sorted(filters)
    measured = []
    for period in request.periods:
        span = Period(period.label, period.start.timestamp(), period.end.timestamp())
        matching = [
            group
            for group in groups(facts, span, by)
            if all(dict(group.key).get(name) == value for name, value in filters.items())
        ]
        value = figure_value(figure, matching[0], facts) if matching else _empty_value(figure.name)
        measured.append(period.model_copy(update={"value": value}))
    return FigureMeasured(periods=measured, tree_size=ledger.size, root_hash=ledger.root_hex())


def _empty_value(name: str) -> float | None:
    """A period with no complaint in the group: a count is 0, any other figure is absent."""
    return 0.0 if BY_NAME[name].formula.startswith("count") else None


class KpiActivities:
    """Holds the audit log and CLOSELOOP_HOME (the kept facts); one measurement at a time,
    so two checks never write the kept facts at once."""

    def __init__(self, audit_log: AuditLog, home: Path) -> None:
        self._audit_log = audit_log
        self._home = home
        self._lock = threading.Lock()

    @activity.defn(name=MEASURE_ACTIVITY)
    def measure_kpi_figure(self, request: MeasureFigure) -> FigureMeasured:
        try:
            with self._lock:
                return measure(self._audit_log, self._home, request)
        except ValueError as bad:
            raise ApplicationError(str(bad), type="BadMeasure", non_retryable=True) from None
