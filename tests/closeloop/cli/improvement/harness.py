"""Running `closeloop improvement …` in-process against a real Temporal server (time-skipping
or dev), with a real worker: shared by the CLI tests of this folder."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from click.testing import Result
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.audit import AuditActivities
from activities.policy import PolicyActivities
from audit.store import AuditLog, EntryFilter
from closeloop.cli.exit_status import ExitStatus
from kpi.measure import KpiActivities
from schemas.deadlines import DeadlinePolicy
from tests.closeloop.cli.harness import invoke, register_search_attributes
from tests.workflows.improvements import Improvements
from workflows.capa import CapaActionWorkflow
from workflows.improvement import ImprovementWorkflow

ACTOR = ["--actor", "qm.lee", "--actor-name", "Lee Quality"]
PASSWORD = "correct horse battery staple"
BARE = ("override_wait_reason", "go_round_again", "action_id", "expected_state_hash")


class Cli:
    def __init__(self, env: WorkflowEnvironment, database_url: str, home: Path) -> None:
        self.env = env
        self.task_queue = f"cli-improve-{uuid.uuid4().hex[:8]}"
        self.audit_log = AuditLog.from_url(database_url)
        self.seed = Improvements(env, self.audit_log, home)  # for complaints in the log
        self.environ = {
            "CLOSELOOP_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
            "CLOSELOOP_TASK_QUEUE": self.task_queue,
            "CLOSELOOP_DATABASE_URL": database_url,
            "CLOSELOOP_HOME": str(home),
            "CLOSELOOP_LOG_FORMAT": "console",
            "CLOSELOOP_DEV_UNAUTHENTICATED": "true",
        }

    async def run(self, *args: str, **environ: str) -> Result:
        return await invoke(["improvement", *args], {**self.environ, **environ})

    def entry_types(self, improvement_id: str) -> list[str]:
        return [
            e.entry_type for e in self.audit_log.entries(EntryFilter(complaint_id=improvement_id))
        ]


async def running_cli(
    time_skipping_env: WorkflowEnvironment, sqlite_url: str, tmp_path: Path
) -> AsyncIterator[Cli]:
    await register_search_attributes(time_skipping_env.client)
    cli = Cli(time_skipping_env, sqlite_url, tmp_path / "home")
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with Worker(
            time_skipping_env.client,
            task_queue=cli.task_queue,
            workflows=[ImprovementWorkflow, CapaActionWorkflow],
            activities=[
                AuditActivities(cli.audit_log).record_audit_entry,
                KpiActivities(cli.audit_log, tmp_path / "home").measure_kpi_figure,
                PolicyActivities(DeadlinePolicy()).load_improvement_policy,
            ],
            activity_executor=executor,
        ):
            yield cli
    cli.audit_log.engine.dispose()


async def open_one(cli: Cli, *extra: str) -> str:
    improvement_id = f"IMP-CLI-{uuid.uuid4().hex[:6]}"
    result = await cli.run(
        "open",
        "--id",
        improvement_id,
        "--owner",
        "eng.park",
        "--problem",
        "Kettle switch complaints doubled",
        "--figure",
        "complaints_received",
        "--for",
        "product=KET-200",
        "--periods",
        "1",
        "--period",
        "7d",
        "--signal",
        "SIG-42",
        "--complaint",
        "C-1",
        "--complaint",
        "C-2",
        *ACTOR,
        *extra,
    )
    assert result.exit_code == ExitStatus.OK, result.output
    return improvement_id
