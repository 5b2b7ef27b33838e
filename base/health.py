"""Liveness, readiness and Prometheus metrics of a long-running process, on one port.

Kubernetes probes `/healthz` (the process and its event loop run) and `/readyz` (it can do
its job: the dependencies it needs answer); Prometheus scrapes `/metrics`. The Temporal SDK
exports its own runtime metrics (durations in seconds) from its core on a loopback port;
`/metrics` relays them followed by Closeloop's own (prometheus_client's default registry),
so one configured port serves all three and the deploy manifests name a single `metrics`
port for the worker and the stream processor.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import aiohttp
from aiohttp import web
from prometheus_client import REGISTRY, generate_latest
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

ReadinessCheck = Callable[[], Awaitable[str | None]]


@dataclass
class Health:
    """What the probes report.

    `ready` is the process's own flag (set while it can work); each check asks a dependency
    and returns None when it answers, or what is wrong, which /readyz shows.
    """

    ready: bool = False
    checks: list[ReadinessCheck] = field(default_factory=list)

    async def problems(self) -> list[str]:
        if not self.ready:
            return ["starting or stopping"]
        found = []
        for check in self.checks:
            try:
                problem = await check()
            except Exception as exc:  # a probe must answer, whatever the dependency does
                problem = f"check failed: {type(exc).__name__}"
            if problem:
                found.append(problem)
        return found


def temporal_check(client: Callable[[], Awaitable[Client]]) -> ReadinessCheck:
    """Readiness: Temporal answers a health check over the process's own client."""

    async def check() -> str | None:
        try:
            connected = await asyncio.wait_for(client(), timeout=5)
            await connected.service_client.check_health(timeout=timedelta(seconds=3))
        except Exception:
            return "Temporal did not answer"
        return None

    return check


def _free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def metrics_runtime() -> tuple[Runtime, str]:
    """A Temporal runtime exporting the SDK's metrics on loopback; returns it and their URL."""
    address = f"127.0.0.1:{_free_loopback_port()}"
    runtime = Runtime(
        telemetry=TelemetryConfig(
            metrics=PrometheusConfig(bind_address=address, durations_as_seconds=True)
        )
    )
    return runtime, f"http://{address}/metrics"


async def start_health_server(
    port: int,
    health: Health,
    sdk_metrics_url: str,
    *,
    setting: str = "CLOSELOOP_WORKER_METRICS_PORT",
) -> web.AppRunner:
    """Serve /healthz, /readyz and /metrics on all interfaces; `cleanup()` the result to stop.

    `setting` names the variable that chose the port, for the error when it is taken.
    """

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(_: web.Request) -> web.Response:
        problems = await health.problems()
        if not problems:
            return web.Response(text="ready\n")
        return web.Response(status=503, text="not ready: " + "; ".join(problems) + "\n")

    async def metrics(_: web.Request) -> web.Response:
        timeout = aiohttp.ClientTimeout(total=5)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.get(sdk_metrics_url) as upstream,
            ):
                sdk = await upstream.read()
        except (aiohttp.ClientError, TimeoutError):
            sdk = b"# the Temporal SDK's metrics did not answer\n"
        body = sdk.rstrip(b"\n") + b"\n" + generate_latest(REGISTRY)
        return web.Response(body=body, content_type="text/plain", charset="utf-8")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        # All interfaces: the kubelet's probes and Prometheus come from outside the pod.
        await web.TCPSite(runner, host="0.0.0.0", port=port).start()  # noqa: S104
    except OSError as exc:
        await runner.cleanup()
        raise SystemExit(f"{setting}={port}: cannot listen ({exc.strerror})") from None

    return runner
