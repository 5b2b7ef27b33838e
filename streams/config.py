"""Tuning of the stream processor, from `CLOSELOOP_STREAM_*` environment variables."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class StreamSettings(BaseSettings):
    """How much the processor does at once, and how long it waits for a late complaint."""

    model_config = SettingsConfigDict(env_prefix="CLOSELOOP_STREAM_", extra="ignore")

    lanes: int = Field(
        default=32,
        ge=1,
        le=1024,
        description="events of different complaints processed concurrently per topic; "
        "events of one complaint always share a lane, so their order is kept",
    )
    max_in_flight: int = Field(
        default=256, ge=1, description="events taken from Kafka but not yet acked, per topic"
    )
    unknown_complaint_wait_s: float = Field(
        default=30.0,
        ge=0.0,
        description="how long a follow-up waits for its complaint's workflow to exist (its "
        "complaint.received event may still be on its way on the other topic) before it is "
        "dead-lettered as unknown_complaint",
    )
    recent_event_ids: int = Field(
        default=10_000, ge=0, description="event ids remembered to skip exact redeliveries"
    )
    metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="port of the processor's /metrics, /healthz and /readyz; unset: none",
    )
    lag_interval_s: float = Field(
        default=5.0,
        gt=0,
        description="seconds between two readings of the consumer group's lag (the "
        "closeloop_stream_consumer_lag gauge; a reading is also the broker readiness check)",
    )


def load_stream_settings() -> StreamSettings:
    return StreamSettings()
