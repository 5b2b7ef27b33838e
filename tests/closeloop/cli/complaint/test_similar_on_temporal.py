"""`closeloop complaint show` shows similar complaints; `link-related` confirms one.

On the time-skipping server with a real worker, the real audit and similarity activities
(SQLite); the status publisher is an in-memory double.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner, Result
from temporalio import activity
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.audit import AuditActivities
from activities.customer_messages import MessageActivities
from activities.policy import PolicyActivities
from activities.similarity import SimilarityActivities
from audit.similarity_index import SimilarityTable
from audit.store import AuditLog, EntryFilter
from base.complaints import start_complaint
from base.similarity import METHOD, METHOD_VERSION
from closeloop.cli import main
from schemas import search_attributes
from schemas.complaint_state import ComplaintState
from schemas.customer_message import MessagePolicy
from schemas.deadlines import DeadlinePolicy
from schemas.events import Channel, ComplaintReceived, Customer, Product
from schemas.status_event import ComplaintStatusEvent
from workflows.capa import CapaActionWorkflow
from workflows.complaint import ComplaintWorkflow

STEAM = (
    "The kettle does not switch itself off when the water boils. It kept boiling until the "
    "kitchen was full of steam and I had to pull the plug."
)
ACTOR = ["--actor", "qe.smith", "--actor-name", "Sam Smith"]


@activity.defn(name="publish_status_event")
def discard_status_event(event: ComplaintStatusEvent) -> None:
    """Kafka is out of scope here."""


class Cli:
    def __init__(self, env: WorkflowEnvironment, task_queue: str, database_url: str) -> None:
        self.env, self.task_queue = env, task_queue
        self.audit_log = AuditLog.from_url(database_url)
        self.environ = {
            "CLOSELOOP_TEMPORAL_ADDRESS": env.client.service_client.config.target_host,
            "CLOSELOOP_DATABASE_URL": database_url,
            "CLOSELOOP_LOG_FORMAT": "console",
            "CLOSELOOP_DEV_UNAUTHENTICATED": "true",
        }

    async def run(self, *args: str) -> Result:
        return await asyncio.to_thread(
            CliRunner().invoke, main, ["complaint", *args], env=self.environ,
            catch_exceptions=False,
        )  # fmt: skip

    async def start(self, description: str) -> str:
        complaint = ComplaintReceived(
            event_id=uuid.uuid4(),
            occurred_at=datetime.now(UTC),
            source="call-centre",
            complaint_id=f"C-SIM-{uuid.uuid4().hex[:8]}",
            customer=Customer(id=f"CUST-{uuid.uuid4().hex[:6]}", name="Ada Example"),
            product=Product(sku="KET-200", name="Kettle", lot="L41"),
            channel=Channel.PHONE,
            summary="Switch does not turn off",
            description=description,
        )
        await start_complaint(self.env.client, self.task_queue, complaint)
        handle = self.env.client.get_workflow_handle(
            complaint.complaint_id, result_type=ComplaintState
        )
        for _ in range(1000):
            if len((await handle.query(ComplaintWorkflow.current_state)).history) >= 2:
                return complaint.complaint_id
            await asyncio.sleep(0.05)
        raise AssertionError("the complaint was never acknowledged")


@pytest.fixture
async def cli(time_skipping_env: WorkflowEnvironment, sqlite_url: str) -> AsyncIterator[Cli]:
    with contextlib.suppress(RPCError):  # already added earlier in this session
        await time_skipping_env.client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(
                namespace=time_skipping_env.client.namespace,
                search_attributes={
                    key.name: IndexedValueType.ValueType(int(key.indexed_value_type))
                    for key in search_attributes.ALL
                },
            )
        )
    task_queue = f"cli-sim-{uuid.uuid4().hex[:8]}"
    cli = Cli(time_skipping_env, task_queue, sqlite_url)
    with ThreadPoolExecutor(max_workers=4) as executor:
        async with Worker(
            time_skipping_env.client,
            task_queue=task_queue,
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


def json_output(result: Result) -> dict:
    text = result.output
    document, _ = json.JSONDecoder().raw_decode(text[text.index("{\n") :])
    return document


async def test_show_lists_similar_complaints_with_their_scores(cli):
    first = await cli.start(STEAM)
    second = await cli.start(STEAM)
    result = await cli.run("show", second)
    assert result.exit_code == 0, result.output
    assert f"similar complaints ({METHOD} v{METHOD_VERSION}, threshold 0.65)" in result.output
    assert first in result.output
    state = ComplaintState.model_validate(json_output(await cli.run("show", second, "--json")))
    assert state.similar is not None
    [suggestion] = state.similar.suggestions
    assert suggestion.complaint_id == first and suggestion.score > 0.9
    result = await cli.run("show", first)
    assert "similar complaints: none found" in result.output


async def test_link_related_is_audited_with_score_method_and_version(cli):
    first = await cli.start(STEAM)
    second = await cli.start(STEAM)
    result = await cli.run(
        "link-related", second, *ACTOR, "--to", first, "--explanation", "Same fault, same lot"
    )
    assert result.exit_code == 0, result.output
    [entry] = cli.audit_log.entries(
        EntryFilter(complaint_id=second, entry_type="complaint.linked_related")
    )
    assert entry.actor == "qe.smith"
    assert entry.data["similarity"]["suggested"] is True
    assert entry.data["similarity"]["score"] > 0.9
    assert entry.data["similarity"]["method"] == METHOD
    assert entry.data["similarity"]["method_version"] == METHOD_VERSION
    result = await cli.run("show", second)
    assert "related" in result.output


async def test_link_related_to_an_unknown_complaint_exits_1_and_records_nothing(cli):
    second = await cli.start(STEAM)
    before = len(cli.audit_log.entries(EntryFilter(complaint_id=second)))
    result = await cli.run(
        "link-related", second, *ACTOR, "--to", "C-NOPE-404", "--explanation", "x"
    )
    assert result.exit_code == 1
    assert "--to: no complaint C-NOPE-404" in result.output
    assert "Traceback" not in result.output
    assert len(cli.audit_log.entries(EntryFilter(complaint_id=second))) == before
    result = await cli.run("link-related", "C-NOPE-1", *ACTOR, "--to", second, "--explanation", "x")
    assert result.exit_code == 1
    assert "no complaint C-NOPE-1" in result.output


async def test_link_related_to_itself_is_a_usage_error(cli):
    result = await cli.run("link-related", "C-1", *ACTOR, "--to", "C-1", "--explanation", "x")
    assert result.exit_code == 2
    assert "--to: a complaint cannot be related to itself" in result.output
    result = await cli.run("link-related", "C-1", *ACTOR, "--to", "C 2", "--explanation", "x")
    assert result.exit_code == 2
    assert "--to" in result.output and "Traceback" not in result.output
