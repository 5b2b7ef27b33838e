"""The figure an improvement's check compares, per period, computed like `closeloop kpi`.

Worked out by hand on a small log: two complaints about the kettle and one about the mixer
in July, one about the kettle in August, one triaged as glass in August.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from audit.store import AuditLog
from kpi.measure import measure
from schemas.improvement import Better, Measure, MeasuredPeriod, MeasureFigure
from tests.kpi.builder import LogBuilder, at

JULY = MeasuredPeriod(label="before 1", start=at("2026-07-01T00:00"), end=at("2026-08-01T00:00"))
AUGUST = MeasuredPeriod(label="after 1", start=at("2026-08-01T00:00"), end=at("2026-09-01T00:00"))
SEPTEMBER = MeasuredPeriod(
    label="after 2", start=at("2026-09-01T00:00"), end=at("2026-10-01T00:00")
)


@pytest.fixture
def july_and_august(log: AuditLog) -> LogBuilder:
    b = LogBuilder(log)
    b.received("K1", at("2026-07-03T00:00"), product="kettle")
    b.received("K2", at("2026-07-20T00:00"), product="kettle")
    b.received("M1", at("2026-07-21T00:00"), product="mixer")
    b.received("K3", at("2026-08-02T00:00"), product="kettle")
    b.triaged("K3", at("2026-08-03T00:00"), "glass")
    # An improvement's own entries, and a CAPA child's, are not complaints.
    b.add("IMP-1", "improvement.opened", at("2026-08-04T00:00"), {"owner": "o"})
    b.add("IMP-1", "capa.action_overdue", at("2026-08-05T00:00"), {"action_id": "A1"})
    return b


def figure(name: str, **filters: str) -> Measure:
    return Measure(
        figure=name, filters=filters, better=Better.LOWER, periods=1, period=timedelta(days=31)
    )


def values(log: AuditLog, tmp_path: Path, measured: Measure) -> list[float | None]:
    request = MeasureFigure(measure=measured, periods=[JULY, AUGUST, SEPTEMBER])
    return [p.value for p in measure(log, tmp_path, request).periods]


def test_complaints_received_per_period_for_one_product(july_and_august, log, tmp_path):
    assert values(log, tmp_path, figure("complaints_received", product="kettle")) == [2.0, 1.0, 0.0]
    assert values(log, tmp_path, figure("complaints_received")) == [3.0, 1.0, 0.0]
    assert values(log, tmp_path, figure("complaints_received", category="glass")) == [0.0, 1.0, 0.0]


def test_a_figure_with_nothing_to_compute_it_from_is_absent_not_zero(
    july_and_august, log, tmp_path
):
    assert values(log, tmp_path, figure("csat_mean", product="kettle")) == [None, None, None]


def test_the_answer_names_the_log_state_it_was_computed_at(july_and_august, log, tmp_path):
    request = MeasureFigure(measure=figure("complaints_received"), periods=[JULY])
    answer = measure(log, tmp_path, request)
    assert answer.tree_size == july_and_august.count == 7
    assert len(answer.root_hash) == 64
    assert [p.label for p in answer.periods] == ["before 1"]


def test_an_unknown_figure_or_dimension_is_refused_with_the_choices(july_and_august, log, tmp_path):
    with pytest.raises(ValueError, match="'happiness' is not a figure; choose from complaints_rec"):
        measure(log, tmp_path, MeasureFigure(measure=figure("happiness"), periods=[JULY]))
    with pytest.raises(ValueError, match="cannot filter by colour; choose from product"):
        measure(log, tmp_path, MeasureFigure(measure=figure("nps", colour="red"), periods=[JULY]))
