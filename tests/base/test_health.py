"""The worker's probes and metrics endpoint: what Kubernetes and Prometheus rely on."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from base.health import Health, metrics_runtime, start_health_server
from tests.deploy.temporal_dev import dev_server, free_port


def get(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


async def aget(port: int, path: str) -> tuple[int, str]:
    """From inside the event loop that serves the endpoint."""
    async with (
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
        session.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, await response.text()


async def test_liveness_is_always_ok_and_readiness_follows_the_process():
    health = Health()
    port = free_port()
    runner = await start_health_server(port, health, "http://127.0.0.1:1/metrics")
    try:
        assert (await aget(port, "/healthz"))[0] == 200
        assert (await aget(port, "/readyz"))[0] == 503
        health.ready = True
        assert (await aget(port, "/readyz"))[0] == 200
    finally:
        await runner.cleanup()


async def test_metrics_relays_the_temporal_sdk_runtime_metrics():
    runtime, sdk_metrics = metrics_runtime()
    runtime.metric_meter.create_counter("closeloop_health_probe_total").add(3)
    port = free_port()
    runner = await start_health_server(port, Health(), sdk_metrics)
    try:
        status, body = await aget(port, "/metrics")
        assert status == 200
        assert "closeloop_health_probe_total" in body and " 3" in body
    finally:
        await runner.cleanup()


async def test_a_port_in_use_is_a_clear_error_naming_the_setting():
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(SystemExit, match=f"CLOSELOOP_WORKER_METRICS_PORT={port}"):
            await start_health_server(port, Health(), "http://127.0.0.1:1/metrics")


def test_the_worker_is_ready_while_it_polls_and_exports_sdk_metrics(tmp_path: Path):
    port = free_port()
    with dev_server(tmp_path, namespace="default") as address:
        env = {
            **os.environ,
            "CLOSELOOP_HOME": str(tmp_path / "home"),
            "CLOSELOOP_TEMPORAL_ADDRESS": address,
            "CLOSELOOP_WORKER_METRICS_PORT": str(port),
            "CLOSELOOP_AUDIT_PUBLISH_CHECKPOINTS": "false",
            "CLOSELOOP_LOG_FORMAT": "json",
        }
        worker = subprocess.Popen(
            [str(Path(sys.executable).parent / "closeloop"), "worker"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if get(port, "/readyz")[0] == 200:
                        break
                except OSError:
                    pass  # not listening yet
                assert worker.poll() is None, worker.communicate()[0]
                assert time.monotonic() < deadline, "worker never became ready"
                time.sleep(0.5)
            status, body = get(port, "/metrics")
            assert status == 200 and "temporal_" in body
        finally:
            worker.send_signal(signal.SIGTERM)
            output, _ = worker.communicate(timeout=60)
        assert worker.returncode == 0, output
        with pytest.raises(OSError):
            get(port, "/healthz")
