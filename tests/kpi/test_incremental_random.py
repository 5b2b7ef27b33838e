"""Kept aggregates updated batch after batch equal a full recomputation, whatever arrives.

Random histories (fixed seeds) over a few products, categories and customers, so that
closures reach other complaints' recurrence and customers' activity reaches other
complaints' retention: receipts reported late (upstream times in earlier months) or early
(an upstream clock running ahead), re-triage (also of closed complaints, which moves their
closures to another product and category), rejections, reopened and re-closed complaints,
complaints spanning months and quarters, surveys, CAPA, shipments restated. After every
batch each view computed from the kept state must equal the same view recomputed from the
whole log.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from audit.store import AuditLog
from kpi import service
from kpi.ledger import Ledger
from kpi.source import new_rows
from tests.kpi.builder import LogBuilder, at

VIEWS: list[dict[str, object]] = [
    {},
    {"by": ["product"]},
    {"by": ["product", "category"], "retention_days": 30},
    {"by": ["month"]},
    {"by": ["channel", "quarter"]},
    {"start": date(2026, 6, 15), "end": date(2026, 8, 31), "by": ["category", "severity"]},
    {"start": date(2026, 7, 1), "by": ["source", "month"]},
]

PRODUCTS = ["mixer", "kettle"]
CATEGORIES = ["glass", "motor", "cord"]
T0 = at("2026-06-01T00:00")


def table(ledger: Ledger, **options: object) -> list[dict[str, object]]:
    result = service.show(ledger, None, **options)  # type: ignore[arg-type]
    return [{**row.group, **row.figures} for row in result.rows]


def fresh(log: AuditLog) -> Ledger:
    ledger = Ledger()
    ledger.extend(new_rows(log, 0))
    return ledger


class History:
    """Random complaints moving through their life, a batch at a time, time running on."""

    def __init__(self, builder: LogBuilder, rng: random.Random) -> None:
        self.b, self.rng = builder, rng
        self.clock = T0
        self.open: list[str] = []
        self.closed: list[str] = []
        self.count = 0

    def tick(self) -> datetime:
        self.clock += timedelta(hours=self.rng.uniform(1, 60))
        return self.clock

    def batch(self, steps: int) -> None:
        for _ in range(steps):
            self.step()

    def step(self) -> None:
        rng, b = self.rng, self.b
        roll = rng.random()
        if roll < 0.3 or not self.open:
            self.count += 1
            cid = f"K{self.count}"
            when = self.tick()
            # Some reported late, one in a while from a clock running ahead of ours.
            upstream = when - timedelta(days=rng.choice([0, 0, 0, 3, 40, -2, -20]))
            b.received(
                cid,
                upstream,
                product=rng.choice(PRODUCTS),
                channel=rng.choice(["web", "phone"]),
                customer=f"cust-{rng.randint(1, 6)}",
                ingested=when,
            )
            self.open.append(cid)
            return
        cid = rng.choice(self.open)
        when = self.tick()
        if roll < 0.4:
            b.acknowledged(cid, when)
        elif roll < 0.5:  # re-triage of a closed complaint moves its closures to a new key
            target = rng.choice([*self.open, *self.closed])
            b.triaged(target, when, rng.choice(CATEGORIES), rng.choice(["low", "high"]))
        elif roll < 0.55:
            b.escalated(cid, when, rng.choice(["acknowledge", "closure"]))
        elif roll < 0.68:
            b.closed(cid, when)
            self.open.remove(cid)
            self.closed.append(cid)
        elif roll < 0.71:
            b.rejected(cid, when)
            self.open.remove(cid)
        elif roll < 0.76 and self.closed:
            again = rng.choice(self.closed)
            b.reopened(again, when)
            self.closed.remove(again)
            self.open.append(again)
        elif roll < 0.8:
            b.decision(cid, "capa.planned", when, actions=[])
            b.decision(cid, "capa.action_completed", self.tick(), action_id="a1")
            b.decision(cid, "complaint.verified", self.tick(), effective=rng.random() < 0.5)
        elif roll < 0.88:
            target = rng.choice(self.closed or self.open)
            b.survey(target, when, csat=rng.choice([None, 1, 3, 4, 5]), nps=rng.randint(0, 10))
        elif roll < 0.96:
            b.activity(rng.choice([*self.closed, *self.open]), when)
        else:
            b.shipment(rng.choice(PRODUCTS), f"2026-{rng.randint(6, 9):02d}", rng.randint(1, 9000))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_kept_aggregates_equal_a_full_recomputation_after_every_batch(
    log: AuditLog, tmp_path: Path, seed: int
) -> None:
    history = History(LogBuilder(log), random.Random(seed))
    history.batch(60)
    home = tmp_path / "home"
    first, _ = service.from_log(log, home, label="test")
    for view in VIEWS:
        table(first, **view)  # kept from now on
    served_from_kept = 0
    for _ in range(6):
        before = log.count()
        history.batch(history.rng.randint(1, 40))
        again, _ = service.from_log(log, home, label="test")
        assert again.folded_now == log.count() - before  # only what is new was read
        whole = fresh(log)
        assert table(again) == table(whole)
        served_from_kept += again.checkout is not None  # no complaint was read but the new
        for view in VIEWS:
            assert table(again, **view) == table(whole, **view), view
    assert served_from_kept == 6  # the range ending at the latest entry never needs a refold
