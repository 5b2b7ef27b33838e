"""Running `closeloop complaint …` in-process against the time-skipping server, with a real
worker, the real audit and similarity activities (SQLite) and the status publisher as an
in-memory double: shared by the CLI tests of this folder."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

from click.testing import Result
from temporalio import activity
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.audit import AuditActivities
from activities.customer_messages import MessageActivities
from activities.policy import PolicyActivities
from activities.similarity import SimilarityActivities
from audit.similarity_index import SimilarityTable
from audit.store import AuditLog
from base.complaints import start_complaint
from schemas.complaint_state import ComplaintState
from schemas.customer_message import MessagePolicy
from schemas.deadlines import DeadlinePolicy
from schemas.events import Channel, ComplaintReceived, Customer, Product
from schemas.status_event import ComplaintStatusEvent
from tests.closeloop.cli.harness import invoke, register_search_attributes
from workflows.capa import CapaActionWorkflow
from workflows.complaint import ComplaintWorkflow

ACTOR = ["--actor", "qe.smith", "--actor-name", "Sam Smith"]


@activity.defn(name="publish_status_event")
def discard_status_event(event: ComplaintStatusEvent) -> None:
    """Kafka is out of scope here."""


class Cli:
    def __init__(self, env: WorkflowEnvironment, task_queue: str, database_url: str) -> None:
        self.env = env
        self.task_queue = task_queue
        self.audit_log = AuditLog.from_url(database_url)
        self.environ = {
            "CLOSELOOP_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
            "CLOSELOOP_DATABASE_URL": database_url,
            "CLOSELOOP_LOG_FORMAT": "console",
            # These tests decide with `--actor`: development mode (tests/identity signs in).
            "CLOSELOOP_DEV_UNAUTHENTICATED": "true",
        }

    async def run(self, *args: str) -> Result:
        return await invoke(["complaint", *args], self.environ)

    async def start(self, **changes: object) -> str:
        """Start a complaint (any field can be changed) and wait for its acknowledgement."""
        fields: dict[str, object] = {
            "event_id": uuid.uuid4(),
            "occurred_at": datetime.now(UTC),
            "source": "call-centre",
            "complaint_id": f"C-CLI-{uuid.uuid4().hex[:8]}",
            "customer": Customer(id="CUST-1", name="Ada", email="ada@example.com"),
            "product": Product(sku="KET-200", name="Kettle", lot="L41"),
            "channel": Channel.PHONE,
            "summary": "Switch does not turn off",
            "description": "",
        }
        complaint = ComplaintReceived.model_validate({**fields, **changes})
        await start_complaint(self.env.client, self.task_queue, complaint)
        handle = self.env.client.get_workflow_handle(
            complaint.complaint_id, result_type=ComplaintState
        )
        for _ in range(1000):
            if len((await handle.query(ComplaintWorkflow.current_state)).history) >= 2:
                return complaint.complaint_id
            await asyncio.sleep(0.02)
        raise AssertionError("the complaint was never acknowledged")


async def running_cli(env: WorkflowEnvironment, sqlite_url: str) -> AsyncIterator[Cli]:
    """A `Cli` with a worker running while the caller's fixture yields it."""
    await register_search_attributes(env.client)
    cli = Cli(env, f"cli-{uuid.uuid4().hex[:8]}", sqlite_url)
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with Worker(
            env.client,
            task_queue=cli.task_queue,
            workflows=[ComplaintWorkflow, CapaActionWorkflow],
            activities=[
                AuditActivities(cli.audit_log).record_audit_entry,
                discard_status_event,
                PolicyActivities(DeadlinePolicy()).load_deadline_policy,
                # messages to the complainant are off here (tests/workflows/test_messages.py)
                MessageActivities(MessagePolicy(enabled=False), "unused:9092").load_message_policy,
                SimilarityActivities(SimilarityTable(cli.audit_log.engine)).find_similar_complaints,
            ],
            activity_executor=executor,
        ):
            yield cli
