"""One place that knows how Closeloop is configured.

Every process (CLI, worker, stream processor, launcher) reads the same environment
variables, so a stack started with `CLOSELOOP_TEMPORAL_ADDRESS=localhost:7300` is also the
one the CLI talks to.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from schemas.customer_message import MessagePolicy
from schemas.deadlines import DeadlinePolicy, ImprovementPolicy


def split_host_port(address: str, default_port: int) -> tuple[str, int]:
    """Split `host:port` (port optional) so launchers can derive neighbouring ports."""
    host, sep, port = address.rpartition(":")
    if not sep:
        return address, default_port
    return host or "127.0.0.1", int(port)


class WitnessSetting(BaseModel):
    """One witness (c2sp.org/tlog-witness): where it listens and the key it cosigns with."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="its submission prefix, e.g. https://witness.example/")
    key: str = Field(description="its verifier key, as `closeloop audit witness` prints it")


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
    console_metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="port of the console's /metrics, /healthz and /readyz, apart from its "
        "HTTP port (`closeloop console --metrics-port` overrides); unset: none",
    )
    worker_workflow_tasks: int = Field(
        default=16,
        ge=1,
        le=1000,
        description="workflow tasks one worker runs at once; Python runs workflow code on "
        "one thread, so more only makes each task slower, and on a starved CPU past "
        "Temporal's 10 s task timeout, after which the task is run again",
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
    audit_witnesses: list[WitnessSetting] = Field(
        default_factory=list,
        description="witnesses that cosign each checkpoint: a JSON list of "
        '{"url": submission prefix, "key": the witness vkey}',
    )
    audit_origin: str | None = Field(
        default=None,
        description="the log's name in its C2SP checkpoint notes (default: "
        "closeloop.audit/<signing key id>); witnesses know the log by it",
    )

    # Trend signals (trends/): the monitoring plan and when the schedule runs it.
    monitoring_plan: Path | None = Field(
        default=None,
        description="TOML or JSON monitoring plan; unset: the built-in plan (README)",
    )
    trends_schedule: str = Field(
        default="0 5 * * *",
        min_length=9,
        description="cron (UTC) of the Temporal Schedule that runs the trend analysis; daily",
    )
    trends_publish_signals: bool = Field(
        default=True, description="publish trend signals to quality.signals.v1"
    )

    # Complaint deadlines per stage and severity (schemas/deadlines.py documents the defaults).
    deadlines: DeadlinePolicy = Field(
        default_factory=DeadlinePolicy,
        description="CLOSELOOP_DEADLINES: JSON overriding any of them, durations in ISO 8601",
    )
    # Improvement (PDCA) deadlines per stage (schemas/deadlines.py documents the defaults).
    improvement_deadlines: ImprovementPolicy = Field(
        default_factory=ImprovementPolicy,
        description="CLOSELOOP_IMPROVEMENT_DEADLINES: JSON overriding plan, check or act",
    )

    @field_validator("monitoring_plan", mode="before")
    @classmethod
    def _no_plan_file(cls, value: object) -> object:
        """An empty CLOSELOOP_MONITORING_PLAN (a manifest's default) means the built-in plan."""
        return None if isinstance(value, str) and not value.strip() else value

    # Messages to the complainant (schemas/customer_message.py documents the defaults).
    messages: MessagePolicy = Field(
        default_factory=MessagePolicy,
        description="CLOSELOOP_MESSAGES: JSON, e.g. language, confirm_acknowledgment_within",
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
