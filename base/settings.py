"""One place that knows how Closeloop is configured.

Every process (CLI, worker, stream processor, launcher) reads the same environment
variables, so a stack started with `CLOSELOOP_TEMPORAL_ADDRESS=localhost:7300` is also the
one the CLI talks to.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.deadlines import DeadlinePolicy


def split_host_port(address: str, default_port: int) -> tuple[str, int]:
    """Split `host:port` (port optional) so launchers can derive neighbouring ports."""
    host, sep, port = address.rpartition(":")
    if not sep:
        return address, default_port
    return host or "127.0.0.1", int(port)


class Settings(BaseSettings):
    """Closeloop configuration, from `CLOSELOOP_*` environment variables."""

    model_config = SettingsConfigDict(env_prefix="CLOSELOOP_", extra="ignore")

    home: Path = Field(default=Path(".closeloop"), description="state, logs, keys and pids")
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    task_queue: str = "closeloop"
    kafka_bootstrap: str = "localhost:9092"
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; SQLite under CLOSELOOP_HOME when unset"
    )
    log_format: Literal["console", "json"] | None = Field(
        default=None, description="console for people, json for machines; auto when unset"
    )
    log_level: str = "info"
    stream_app_id: str = "closeloop-streams"
    worker_metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="port of the worker's /metrics, /healthz and /readyz; unset: none (the "
        "local stack runs several workers on one host)",
    )
    tracing: bool = Field(
        default=False,
        description="OpenTelemetry spans from the Kafka event through the workflow to the "
        "audit entry (see base/tracing.py)",
    )
    # The audit log's signed checkpoints (see audit/checkpointer.py).
    audit_signing_key: str | None = Field(
        default=None,
        description="Ed25519 private key for checkpoints: PKCS#8 PEM text, or a path to a PEM "
        "file; when unset, CLOSELOOP_HOME/keys/audit-signing-key.pem, created on first use",
        repr=False,
    )
    audit_checkpoint_interval: float = Field(
        default=60.0, gt=0, description="seconds between the worker's checkpoints of new entries"
    )
    audit_checkpoint_entries: int = Field(
        default=1000, ge=1, description="checkpoint as soon as this many entries are unsigned"
    )
    audit_publish_checkpoints: bool = Field(
        default=True, description="publish checkpoints to audit.checkpoints.v1 for witnesses"
    )

    # Complaint deadlines per stage and severity (schemas/deadlines.py documents the defaults).
    deadlines: DeadlinePolicy = Field(
        default_factory=DeadlinePolicy,
        description="CLOSELOOP_DEADLINES: JSON overriding any of them, durations in ISO 8601",
    )

    @cached_property
    def home_dir(self) -> Path:
        """The absolute state folder, created on first use."""
        path = self.home.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home_dir / 'audit.db'}"

    @property
    def temporal_host_port(self) -> tuple[str, int]:
        return split_host_port(self.temporal_address, 7233)

    @property
    def temporal_ui_port(self) -> int:
        """The UI listens on the Temporal port + 1000 (7233 -> 8233), as the dev server does."""
        return self.temporal_host_port[1] + 1000

    @property
    def temporal_ui_url(self) -> str:
        host, _ = self.temporal_host_port
        return f"http://{host}:{self.temporal_ui_port}"

    @property
    def kafka_host_port(self) -> tuple[str, int]:
        return split_host_port(self.kafka_bootstrap, 9092)


def load_settings() -> Settings:
    """Read the settings from the environment now (tests change the environment)."""
    return Settings()
