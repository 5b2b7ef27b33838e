"""On a real Temporal dev server: the scheduled run opens the improvement its new signal
calls for as a child workflow that outlives the run, once however often the run is repeated.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Replayer, Worker

from activities.audit import AuditActivities
from activities.policy import PolicyActivities
from audit.models import AuditEntry
from audit.store import AuditLog, EntryFilter
from base import improvements
from base.settings import Settings
from closeloop.cli.exit_status import ExitStatus
from kpi.measure import KpiActivities
from schemas import search_attributes
from schemas.deadlines import DeadlinePolicy, ImprovementPolicy
from schemas.improvement import improvement_workflow_id
from tests.conftest import SERVER_STARTUP_TIMEOUT, eventually, start_with_retries, venv_binary
from tests.trends.conftest import AS_OF
from tests.trends.test_cli import cli
from tests.trends.test_opening import OWNED
from trends import records
from trends.activity import TrendActivities
from trends.run import RunReceipt
from trends.workflow import TrendAnalysisWorkflow
from workflows.capa import CapaActionWorkflow
from workflows.improvement import ImprovementWorkflow

HISTORY = Path(__file__).parent / "histories" / "trend-analysis-opens-improvement.json"


@pytest.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_with_retries(
        lambda: WorkflowEnvironment.start_local(
            data_converter=pydantic_data_converter,
            dev_server_existing_path=venv_binary("temporal"),
            dev_server_startup_timeout=SERVER_STARTUP_TIMEOUT,
            search_attributes=search_attributes.ALL,
        ),
        what="the Temporal dev server",
    )
    try:
        yield env
    finally:
        await env.shutdown()


def opened_entries(log: AuditLog) -> list[AuditEntry]:
    return log.entries(EntryFilter(entry_type="improvement.opened"))


async def test_a_new_signal_opens_one_improvement_and_a_rerun_none(
    dev_env: WorkflowEnvironment, step_log: AuditLog, tmp_path: Path
) -> None:
    client: Client = dev_env.client
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(OWNED), encoding="utf-8")
    settings = Settings(home=tmp_path / "home", trends_publish_signals=False, monitoring_plan=plan)
    queue = f"trends-{uuid.uuid4().hex[:8]}"
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with Worker(
            client,
            task_queue=queue,
            workflows=[TrendAnalysisWorkflow, ImprovementWorkflow, CapaActionWorkflow],
            activities=[
                TrendActivities(step_log, settings).run_trend_analysis,
                AuditActivities(step_log).record_audit_entry,
                KpiActivities(step_log, tmp_path / "home").measure_kpi_figure,
                PolicyActivities(DeadlinePolicy(), ImprovementPolicy()).load_improvement_policy,
            ],
            activity_executor=executor,
        ):
            first: RunReceipt = await client.execute_workflow(
                TrendAnalysisWorkflow.run, id=f"trends-first-{queue}", task_queue=queue
            )
            [opened] = first.improvements
            assert first.improvements_opened == [opened.improvement_id]
            entries = await eventually(
                lambda: asyncio.to_thread(opened_entries, step_log), lambda found: bool(found)
            )
            second: RunReceipt = await client.execute_workflow(
                TrendAnalysisWorkflow.run, id=f"trends-second-{queue}", task_queue=queue
            )
            again = await improvements.open_improvement(client, queue, opened)
    assert [e.complaint_id for e in entries] == [opened.improvement_id]
    assert entries[0].data["signal_id"] == opened.signal_id
    assert entries[0].data["measure"]["filters"] == {"product": "mixer"}
    assert entries[0].actor == "trends:complaints-by-product"
    assert second.new_signals == [] and second.improvements == []
    assert again is improvements.StartOutcome.DUPLICATE  # the CLI path would not open another
    assert len(opened_entries(step_log)) == 1

    child = client.get_workflow_handle(improvement_workflow_id(opened.improvement_id))
    described = await child.describe()
    assert described.status is WorkflowExecutionStatus.RUNNING  # abandoned by the ended run
    assert described.typed_search_attributes.get(search_attributes.ASSIGNEE) == "quality-lead"
    assert described.typed_search_attributes.get(search_attributes.PRODUCT) == "mixer"
    [run] = [r for r in records.runs(step_log) if r.data["run_id"] == f"trends-first-{queue}"]
    assert run.data["improvements"][0]["improvement_id"] == opened.improvement_id

    history = await client.get_workflow_handle(f"trends-first-{queue}").fetch_history()
    replayed = await Replayer(
        workflows=[TrendAnalysisWorkflow], data_converter=pydantic_data_converter
    ).replay_workflow(history)
    assert replayed.replay_failure is None
    if os.environ.get("CLOSELOOP_RECORD_HISTORIES") == "1":  # see tests/trends/test_replay.py
        HISTORY.write_text(history.to_json(), encoding="utf-8")
    await child.terminate("test over")


@pytest.fixture
def owned_plan(home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """OWNED under another rule name: other signal ids than the scheduled test's, whose
    improvements (on the same server) would already exist."""
    rules = [{**OWNED["rules"][0], "name": "product-complaints"}, *OWNED["rules"][1:]]
    plan = home.parent / "owned.json"
    plan.write_text(json.dumps({**OWNED, "rules": rules}), encoding="utf-8")
    monkeypatch.setenv("CLOSELOOP_MONITORING_PLAN", str(plan))
    return plan


async def test_trends_run_opens_them_too_and_a_rerun_opens_none(
    dev_env: WorkflowEnvironment, home_log: AuditLog, owned_plan: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    queue = f"trends-cli-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv(
        "CLOSELOOP_TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host
    )
    monkeypatch.setenv("CLOSELOOP_TASK_QUEUE", queue)
    result = await asyncio.to_thread(cli, "run", "--as-of", AS_OF)
    assert result.exit_code == 0, result.output
    [line] = [x for x in result.output.splitlines() if x.startswith("improvement ")]
    assert line.endswith("owner quality-lead") and " opened for sig-" in line
    improvement_id = line.split()[1]
    described = await dev_env.client.get_workflow_handle(
        improvement_workflow_id(improvement_id)
    ).describe()
    assert described.workflow_type == "ImprovementWorkflow"
    assert described.task_queue == queue
    again = await asyncio.to_thread(cli, "run", "--as-of", AS_OF, "--json")
    assert json.loads(again.stdout.splitlines()[0])["run"]["improvements"] == []
    await dev_env.client.get_workflow_handle(improvement_workflow_id(improvement_id)).terminate()


def test_trends_run_without_temporal_audits_nothing_and_exits_3(
    home_log: AuditLog, owned_plan: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("CLOSELOOP_TEMPORAL_ADDRESS", f"127.0.0.1:{port}")
    result = cli("run", "--as-of", AS_OF)
    assert result.exit_code == ExitStatus.UNREACHABLE, result.output
    assert "Temporal" in result.output
    assert records.signals(home_log) == [] and records.runs(home_log) == []
