"""Real CFPB complaints (../shared/data): the July 2023 surge in the sample is a signal, and
its figures are the counts of the CSV, made here with the csv module, not with closeloop."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from audit.store import AuditLog
from closeloop.cfpb import read_cfpb
from tests.kpi.builder import LogBuilder
from trends import records
from trends.exact import rate_increase_p
from trends.plan import parse_plan
from trends.run import analyse

PLAN = parse_plan(
    {
        "version": "cfpb",
        "rules": [
            {"name": "all", "method": "poisson_exact", "alpha": 0.001},
            {"name": "by-product", "method": "poisson_exact", "by": "product", "alpha": 0.001},
        ],
    }
)


def csv_counts(path: Path) -> Counter[tuple[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return Counter(((r["Product"] or "unknown")[:128], r["Date received"][:7]) for r in rows)


@pytest.mark.clause("EU MDR Art. 88", "ISO 13485:2016 8.4", "ISO 9001:2015 10.3")
def test_the_july_2023_surge_is_signalled_with_the_csv_counts(
    log: AuditLog, shared_data: Path, tmp_path: Path
) -> None:
    path = shared_data / "cfpb-complaints.csv"
    builder = LogBuilder(log)
    for event in read_cfpb(path):
        builder.received(
            event.complaint_id,
            event.occurred_at,
            product=event.product.sku,
            channel=event.channel.value,
        )
    analyse(
        log, PLAN, plan_source="test", home=tmp_path / "home", database_label="cfpb",
        run_id="cfpb", as_of=date(2023, 8, 15), now=datetime.now(UTC),
    )  # fmt: skip
    counts = csv_counts(path)
    july = sum(n for (_, month), n in counts.items() if month == "2023-07")
    baseline = sum(n for (_, month), n in counts.items() if "2022-07" <= month <= "2023-06")

    found = {(s.rule, tuple(s.group.items())): s for _, s in records.signals(log)}
    overall = found[("all", ())]
    assert overall.period == "2023-07" and overall.value == july == 1280
    assert overall.centre is not None and abs(overall.centre - baseline / 12) < 1e-6
    assert overall.p_value == rate_increase_p(july, 1, baseline, 12)
    assert overall.p_value < 1e-100

    top = "Credit reporting, credit repair services, or other personal consumer reports"
    product = found[("by-product", (("product", top),))]
    assert product.value == counts[(top, "2023-07")]
    # Every product signalled had more complaints in July than in its 12 months before.
    for (rule, group), signal in found.items():
        if rule == "by-product":
            name = dict(group)["product"]
            before = sum(
                n for (p, m), n in counts.items() if p == name and "2022-07" <= m <= "2023-06"
            )
            assert signal.value == counts[(name, "2023-07")] > before / 12
