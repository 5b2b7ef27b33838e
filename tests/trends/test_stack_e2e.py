"""On the real local stack (`closeloop up`): the worker created the daily Schedule, the
launcher created `quality.signals.v1`, and `closeloop trends run` audits a run."""

from __future__ import annotations

import json

import pytest
from kafka import KafkaConsumer

from schemas.topics import QUALITY_SIGNALS
from tests.conftest import LocalStack, eventually
from trends import records
from trends.schedule import SCHEDULE_ID

pytestmark = pytest.mark.e2e


async def test_the_stack_schedules_the_analysis_and_runs_it_on_demand(
    sqlite_stack: LocalStack,
) -> None:
    client = await sqlite_stack.client()

    async def described() -> str | None:
        try:
            found = await client.get_schedule_handle(SCHEDULE_ID).describe()
        except Exception:
            return None
        return found.schedule.state.note

    note = await eventually(described, lambda n: n is not None, timeout=120)
    assert note is not None and "0 5 * * *" in note, sqlite_stack.logs()

    consumer = KafkaConsumer(bootstrap_servers=sqlite_stack.env["CLOSELOOP_KAFKA_BOOTSTRAP"])
    try:
        assert QUALITY_SIGNALS in consumer.topics()
    finally:
        consumer.close()

    shown = sqlite_stack.cli("trends", "run", "--json", check=True)
    receipt = json.loads(shown.stdout.splitlines()[0])["run"]
    log = sqlite_stack.audit_log()
    try:
        [run] = [e for e in records.runs(log) if e.data["run_id"] == receipt["run_id"]]
        assert run.seq == receipt["run_seq"]
        assert records.plans(log)[-1].data["version"] == "builtin-1"
    finally:
        log.dispose()
