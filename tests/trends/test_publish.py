"""Signals on `quality.signals.v1` of a real Tansu broker: valid events, each sent once, and
none lost when the broker was away."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from audit.store import AuditLog
from schemas.contract import validator_for
from schemas.topics import QUALITY_SIGNALS
from tests.tansu import free_port, tansu
from tests.tansu import published as tansu_published
from tests.trends.conftest import AS_OF
from trends import records
from trends.plan import parse_plan
from trends.run import Publishing, RunReceipt, analyse

PLAN = parse_plan(
    {"version": "t", "rules": [{"name": "by-product", "method": "c_chart", "by": "product"}]}
)


@pytest.fixture(scope="module")
def kafka_bootstrap() -> Iterator[str]:
    with tansu(free_port(), QUALITY_SIGNALS) as bootstrap:
        yield bootstrap


def published(bootstrap: str) -> list[tuple[bytes, dict]]:
    return tansu_published(bootstrap, QUALITY_SIGNALS)


def run(
    log: AuditLog, tmp_path: Path, bootstrap: str, run_id: str
) -> tuple[RunReceipt, Publishing]:
    publishing = Publishing(bootstrap)
    receipt = analyse(
        log, PLAN, plan_source="test", home=tmp_path / "home", database_label="t",
        run_id=run_id, as_of=date.fromisoformat(AS_OF), now=datetime.now(UTC),
        publishing=publishing,
    )  # fmt: skip
    return receipt, publishing


def test_signals_are_published_once_as_valid_events(
    step_log: AuditLog, tmp_path: Path, kafka_bootstrap: str
) -> None:
    before = len(published(kafka_bootstrap))
    receipt, publishing = run(step_log, tmp_path, kafka_bootstrap, "r1")
    assert publishing.error is None and receipt.published == 3
    messages = published(kafka_bootstrap)[before:]
    assert [event["signal_id"] for _, event in messages] == receipt.signals
    for key, event in messages:
        assert key == b"by-product"
        assert list(validator_for(QUALITY_SIGNALS).iter_errors(event)) == []
    audited = {s.signal_id: s.to_json() for _, s in records.signals(step_log)}
    assert all(audited[event["signal_id"]] == event for _, event in messages)
    sent = records.published_ids(step_log)
    assert sent.keys() == set(receipt.signals)
    assert {e.data["offset"] for e in sent.values()} == set(range(before, before + 3))

    again, _ = run(step_log, tmp_path, kafka_bootstrap, "r2")
    assert again.published == 0  # already sent: not again
    assert len(published(kafka_bootstrap)) == before + 3


def test_signals_found_while_the_broker_is_away_are_sent_by_the_next_run(
    step_log: AuditLog, tmp_path: Path, kafka_bootstrap: str
) -> None:
    down = f"127.0.0.1:{free_port()}"
    receipt, publishing = run(step_log, tmp_path, down, "r1")
    assert publishing.error is not None and receipt.unpublished == 3
    assert records.published_ids(step_log) == {}
    assert len(records.signals(step_log)) == 3  # audited all the same

    before = len(published(kafka_bootstrap))
    later, _ = run(step_log, tmp_path, kafka_bootstrap, "r2")
    assert later.new_signals == [] and later.published == 3
    assert len(published(kafka_bootstrap)) == before + 3
