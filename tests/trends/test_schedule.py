"""The daily Schedule on a real Temporal dev server: created once, left alone, updated on
change; a triggered run executes the workflow and its activity and audits the run."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from audit.store import AuditLog
from base.settings import Settings
from tests.conftest import SERVER_STARTUP_TIMEOUT, eventually, start_with_retries, venv_binary
from trends import records
from trends.activity import TrendActivities
from trends.plan import DEFAULT_PLAN
from trends.run import analyse
from trends.schedule import SCHEDULE_ID, WORKFLOW_ID, ensure_schedule
from trends.workflow import TrendAnalysisWorkflow

TASK_QUEUE = "trends-test"
HISTORY = Path(__file__).parent / "histories" / "trend-analysis-run.json"


@pytest.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_with_retries(
        lambda: WorkflowEnvironment.start_local(
            data_converter=pydantic_data_converter,
            dev_server_existing_path=venv_binary("temporal"),
            dev_server_startup_timeout=SERVER_STARTUP_TIMEOUT,
        ),
        what="the Temporal dev server",
    )
    try:
        yield env
    finally:
        await env.shutdown()


async def test_the_schedule_is_created_once_and_updated_when_the_setting_changes(
    dev_env: WorkflowEnvironment,
) -> None:
    client = dev_env.client
    assert await ensure_schedule(client, cron="0 5 * * *", task_queue=TASK_QUEUE) == "created"
    assert await ensure_schedule(client, cron="0 5 * * *", task_queue=TASK_QUEUE) == "unchanged"
    described = await client.get_schedule_handle(SCHEDULE_ID).describe()
    assert "0 5 * * *" in (described.schedule.state.note or "")
    assert await ensure_schedule(client, cron="30 6 * * 1", task_queue=TASK_QUEUE) == "updated"
    described = await client.get_schedule_handle(SCHEDULE_ID).describe()
    assert "30 6 * * 1" in (described.schedule.state.note or "")
    spec = described.schedule.spec  # the server keeps cron as a calendar, or as given
    hours = [c.hour[0].start for c in spec.calendars]
    assert hours == [6] or list(spec.cron_expressions) == ["30 6 * * 1"]
    await ensure_schedule(client, cron="0 5 * * *", task_queue=TASK_QUEUE)


async def test_a_triggered_run_audits_the_same_signals_as_a_direct_run(
    dev_env: WorkflowEnvironment, step_log: AuditLog, tmp_path: Path
) -> None:
    client: Client = dev_env.client
    settings = Settings(home=tmp_path / "home", trends_publish_signals=False)
    await ensure_schedule(client, cron="0 5 * * *", task_queue=TASK_QUEUE)
    activities = TrendActivities(step_log, settings)
    with ThreadPoolExecutor(max_workers=2) as executor:
        async with Worker(
            client,
            task_queue=TASK_QUEUE,
            workflows=[TrendAnalysisWorkflow],
            activities=[activities.run_trend_analysis],
            activity_executor=executor,
        ):
            await client.get_schedule_handle(SCHEDULE_ID).trigger()
            runs = await eventually(
                lambda: asyncio.to_thread(records.runs, step_log), lambda found: bool(found)
            )
    assert runs, "the triggered workflow wrote no trends.run entry"
    [entry] = runs
    assert entry.data["run_id"].startswith(WORKFLOW_ID)
    direct = analyse(
        step_log,
        DEFAULT_PLAN,
        plan_source="built-in",
        home=tmp_path / "home",
        database_label=str(step_log.engine.url),
        run_id="direct",
        as_of=datetime.fromisoformat(entry.data["as_of"]).date(),
        now=datetime.now(UTC),
    )
    assert entry.data["signals"] == direct.signals
    assert entry.data["rules"]["complaints-by-product"]["signals"] == 3  # July to September

    history = await client.get_workflow_handle(entry.data["run_id"]).fetch_history()
    replayed = await Replayer(
        workflows=[TrendAnalysisWorkflow], data_converter=pydantic_data_converter
    ).replay_workflow(history)
    assert replayed.replay_failure is None
    if os.environ.get("CLOSELOOP_RECORD_HISTORIES") == "1":  # see tests/trends/test_replay.py
        HISTORY.write_text(history.to_json(), encoding="utf-8")
    assert direct.new_signals == []  # the scheduled run audited them already
    assert len(records.plans(step_log)) == 1
