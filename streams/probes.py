"""The stream processor's /healthz, /readyz and /metrics, and the consumer-lag gauge.

Ready means the two dependencies answer: Temporal (a health check over the processor's own
client) and the broker (the last lag reading, taken every `lag_interval_s`, succeeded
recently). The server starts with faust's worker, once it has joined its consumer group.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import faust
import structlog
from temporalio.client import Client

from base.consumer_lag import STREAM_INPUT_TOPICS, group_lag
from base.health import Health, start_health_server, temporal_check
from base.settings import Settings
from streams.config import StreamSettings
from streams.metrics import record_lag

log = structlog.get_logger(__name__)


class LagWatch:
    """Reads the group's lag into the gauge; remembers when the broker last answered."""

    def __init__(self, settings: Settings, interval_s: float) -> None:
        self._settings = settings
        self._interval = interval_s
        self._answered_at: float | None = None

    async def read_once(self) -> None:
        try:
            lags = await asyncio.to_thread(
                group_lag,
                self._settings.kafka_bootstrap,
                self._settings.stream_app_id,
                STREAM_INPUT_TOPICS,
                timeout_s=max(2.0, self._interval),
            )
        except Exception as exc:  # the broker is down or slow: readiness says so
            log.warning("consumer lag not readable", error=f"{type(exc).__name__}: {exc}")
            return
        record_lag(lags)
        self._answered_at = time.monotonic()

    async def run(self) -> None:
        while True:
            await self.read_once()
            await asyncio.sleep(self._interval)

    async def broker_problem(self) -> str | None:
        stale = 3 * self._interval + 10
        if self._answered_at is None or time.monotonic() - self._answered_at > stale:
            return "the Kafka broker did not answer"
        return None


def add_probes(
    app: faust.App,
    settings: Settings,
    stream_settings: StreamSettings,
    client: Callable[[], Awaitable[Client]],
    sdk_metrics_url: str,
) -> None:
    """Serve the probes on `CLOSELOOP_STREAM_METRICS_PORT` from faust's start on."""
    port = stream_settings.metrics_port
    if port is None:
        return
    watch = LagWatch(settings, stream_settings.lag_interval_s)
    health = Health(checks=[temporal_check(client), watch.broker_problem])

    async def serve() -> None:
        await start_health_server(
            port, health, sdk_metrics_url, setting="CLOSELOOP_STREAM_METRICS_PORT"
        )
        await watch.read_once()
        health.ready = True
        log.info("stream probes serving", port=port)
        await watch.run()

    app.task(serve)
