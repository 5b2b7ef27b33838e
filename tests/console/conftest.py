"""The console on a real Temporal dev server (visibility queries need it) with a real worker.

The worker runs the real workflows with the real audit and policy activities against the
same SQLite database as the console's identity tables; only the Kafka status publisher is
an in-memory recorder, as in the workflow tests. Requests go through httpx's ASGI transport
into the real FastAPI app.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.audit import AuditActivities
from activities.customer_messages import MessageActivities
from activities.policy import PolicyActivities
from activities.similarity import SimilarityActivities
from audit.similarity_index import SimilarityTable
from base.complaints import start_complaint
from base.settings import Settings
from base.temporal import ensure_search_attributes
from console.app import create_app
from console.context import ConsoleContext
from identity.roles import Role
from identity.service import Identity
from schemas.complaint_state import ComplaintState
from schemas.customer_message import MessagePolicy
from schemas.deadlines import DeadlinePolicy
from schemas.decisions import STATE_QUERY
from schemas.events import Channel, ComplaintReceived, Customer, Product
from schemas.status_event import ComplaintStatusEvent
from tests.conftest import SERVER_STARTUP_TIMEOUT, start_with_retries, venv_binary
from workflows.capa import CapaActionWorkflow
from workflows.complaint import ComplaintWorkflow

PASSWORD = "correct horse battery staple"
USERS = {
    "ann.op": ("Ann Operator", Role.OPERATOR),
    "lee.qm": ("Lee Quality", Role.QUALITY_MANAGER),
    "ada.aud": ("Ada Auditor", Role.AUDITOR),
    "max.admin": ("Max Admin", Role.ADMINISTRATOR),
}
BUDGET = 60.0
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@activity.defn(name="publish_status_event")
def publish_status_event(event: ComplaintStatusEvent) -> None:
    """The status events go nowhere here; the intake and e2e tests cover the broker."""


@pytest.fixture(scope="module")
async def dev_server() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_with_retries(
        lambda: WorkflowEnvironment.start_local(
            data_converter=pydantic_data_converter,
            dev_server_existing_path=venv_binary("temporal"),
            dev_server_startup_timeout=SERVER_STARTUP_TIMEOUT,
            ui=False,
        ),
        what="the Temporal dev server",
    )
    await ensure_search_attributes(env.client, env.client.namespace)
    try:
        yield env
    finally:
        await env.shutdown()


class Console:
    """The app, its identity store, and ways to start complaints and sign in."""

    def __init__(
        self, app: Any, identity: Identity, client: Client, task_queue: str, settings: Settings
    ) -> None:
        self.settings = settings
        self.app = app
        self.identity = identity
        self.client = client
        self.task_queue = task_queue

    def browser(self) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app)
        return httpx.AsyncClient(transport=transport, base_url="http://console.test")

    @contextlib.asynccontextmanager
    async def signed_in(self, username: str) -> AsyncIterator[httpx.AsyncClient]:
        async with self.browser() as browser:
            response = await sign_in(browser, username, PASSWORD)
            assert response.status_code == 303, response.text
            yield browser

    async def start(self, **changes: Any) -> str:
        fields: dict[str, Any] = {
            "event_id": uuid.uuid4(),
            "occurred_at": datetime.now(UTC),
            "source": "web-shop",
            "complaint_id": f"C-{uuid.uuid4().hex[:10]}",
            "customer": Customer(id="CUST-88123", name="Ada Example", email="ada@example.com"),
            "product": Product(sku="KET-200", name="Electric kettle", lot="L2026-41"),
            "channel": Channel.WEB,
            "summary": "Kettle switch does not turn off when the water boils",
            "description": "It kept boiling until I unplugged it.",
        }
        fields.update(changes)
        received = ComplaintReceived(**fields)
        await start_complaint(self.client, self.task_queue, received)
        await self.wait_for(received.complaint_id, lambda s: len(s.history) >= 1)
        return received.complaint_id

    async def state(self, complaint_id: str) -> ComplaintState:
        return await self.client.get_workflow_handle(complaint_id).query(
            STATE_QUERY, result_type=ComplaintState
        )

    async def wait_for(self, complaint_id: str, until: Any) -> ComplaintState:
        deadline = time.monotonic() + BUDGET
        while True:
            state = await self.state(complaint_id)
            if until(state) or time.monotonic() > deadline:
                return state
            await asyncio.sleep(0.05)


async def csrf_of(browser: httpx.AsyncClient, path: str) -> str:
    response = await browser.get(path)
    found = CSRF.search(response.text)
    assert found, f"no CSRF token on {path}: {response.status_code}"
    return found.group(1)


async def sign_in(browser: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    token = await csrf_of(browser, "/login")
    return await browser.post(
        "/login", data={"csrf_token": token, "username": username, "password": password}
    )


@pytest.fixture(scope="module")
async def console(
    dev_server: WorkflowEnvironment, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Console]:
    home = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{home / 'audit.db'}"
    identity = Identity.from_url(url)
    for username, (name, role) in USERS.items():
        identity.users.add(username, name, role, PASSWORD, by="os:test")
    task_queue = f"console-{uuid.uuid4().hex[:8]}"
    settings = Settings(home=Path(home), database_url=url, task_queue=task_queue)
    app = create_app(ConsoleContext(settings, identity, client=dev_server.client))
    with ThreadPoolExecutor(max_workers=4) as executor:
        worker = Worker(
            dev_server.client,
            task_queue=task_queue,
            workflows=[ComplaintWorkflow, CapaActionWorkflow],
            activities=[
                AuditActivities(identity.audit_log).record_audit_entry,
                publish_status_event,
                PolicyActivities(DeadlinePolicy()).load_deadline_policy,
                # messages to the complainant are off here (tests/workflows/test_messages.py)
                MessageActivities(MessagePolicy(enabled=False), "unused:9092").load_message_policy,
                SimilarityActivities(
                    SimilarityTable(identity.audit_log.engine)
                ).find_similar_complaints,
            ],
            activity_executor=executor,
        )
        async with worker:
            yield Console(app, identity, dev_server.client, task_queue, settings)
    identity.dispose()
