"""Liveness, readiness and Prometheus metrics of a long-running process, on one port.

Kubernetes probes `/healthz` (the process and its event loop run) and `/readyz` (it does its
job: a worker is connected and polling); Prometheus scrapes `/metrics`. The Temporal SDK
exports its own runtime metrics (durations in seconds) from its core on a loopback port;
`/metrics` relays them, so one configured port serves all three and the deploy manifests
(deploy/kubernetes/base/closeloop/worker.yaml) name a single `metrics` port.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

import aiohttp
from aiohttp import web
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig


@dataclass
class Health:
    """What the probes report; the process sets `ready` while it can do its work."""

    ready: bool = False


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


async def start_health_server(port: int, health: Health, sdk_metrics_url: str) -> web.AppRunner:
    """Serve /healthz, /readyz and /metrics on all interfaces; `cleanup()` the result to stop."""

    async def healthz(_: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def readyz(_: web.Request) -> web.Response:
        if health.ready:
            return web.Response(text="ready\n")
        return web.Response(status=503, text="not ready\n")

    async def metrics(_: web.Request) -> web.Response:
        timeout = aiohttp.ClientTimeout(total=5)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.get(sdk_metrics_url) as upstream,
        ):
            body = await upstream.read()
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
        raise SystemExit(
            f"CLOSELOOP_WORKER_METRICS_PORT={port}: cannot listen ({exc.strerror})"
        ) from None

    return runner
