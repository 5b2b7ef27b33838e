"""`closeloop console --metrics-port`: probes and Prometheus metrics on a port of their own.

The real console runs as a subprocess on a SQLite database; the tests scrape its metrics
port over HTTP, as Prometheus does, and assert that the counters move by route template,
never by concrete path or user name, and that the public port serves no /metrics.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import WorkflowEnvironment

from closeloop.stack.processes import free_port
from tests.console.conftest import CSRF, PASSWORD
from tests.console.test_signing import TRIAGE, form_of, sign

STARTUP_S = 60.0


class RunningConsole:
    def __init__(self, process: subprocess.Popen[str], port: int, metrics_port: int) -> None:
        self.process = process
        self.public = f"http://127.0.0.1:{port}"
        self.metrics = f"http://127.0.0.1:{metrics_port}"

    def scrape(self) -> str:
        response = httpx.get(f"{self.metrics}/metrics", timeout=10)
        assert response.status_code == 200
        return response.text


def console_env(tmp_path: Path, temporal_address: str) -> dict[str, str]:
    return {
        **os.environ,
        "CLOSELOOP_HOME": str(tmp_path),
        "CLOSELOOP_DATABASE_URL": f"sqlite:///{tmp_path / 'audit.db'}",
        "CLOSELOOP_TEMPORAL_ADDRESS": temporal_address,
    }


@contextlib.contextmanager
def running_console(tmp_path: Path, temporal_address: str) -> Iterator[RunningConsole]:
    port, metrics_port = free_port(), free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "closeloop", "console", "--port", str(port),
         "--metrics-port", str(metrics_port)],
        env=console_env(tmp_path, temporal_address),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    console = RunningConsole(process, port, metrics_port)
    try:
        deadline = time.monotonic() + STARTUP_S
        for url in (f"{console.public}/healthz", f"{console.metrics}/healthz"):
            while True:
                try:
                    httpx.get(url, timeout=2)
                    break
                except httpx.TransportError:
                    assert process.poll() is None, process.communicate()[0]
                    assert time.monotonic() < deadline, f"the console did not answer {url}"
                    time.sleep(0.2)
        yield console
    finally:
        process.terminate()
        process.wait(timeout=30)


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a scrape; 0 when the series does not exist yet."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return 0.0


def moved(before: str, after: str, name: str, **labels: str) -> float:
    return sample(after, name, **labels) - sample(before, name, **labels)


def test_requests_are_counted_by_route_template_and_status_class(tmp_path):
    nothing_listens = f"127.0.0.1:{free_port()}"
    with (
        running_console(tmp_path, nothing_listens) as console,
        httpx.Client(base_url=console.public, timeout=10) as browser,
    ):
        before = console.scrape()
        sign_in_page = browser.get("/login")
        assert sign_in_page.status_code == 200
        refused = browser.get("/complaints/CL-2099-004242")  # not signed in: to /login
        assert refused.status_code == 303
        token = CSRF.search(sign_in_page.text)
        assert token
        wrong = browser.post(
            "/login",
            data={"csrf_token": token.group(1), "username": "mallory.m", "password": "guess" * 3},
        )
        assert wrong.status_code == 401
        after = console.scrape()

    requests = "closeloop_console_requests_total"
    assert moved(before, after, requests, route="/login", method="GET", status="2xx") == 1
    assert moved(before, after, requests, route="/login", method="POST", status="4xx") == 1
    page = "/complaints/{complaint_id}"
    assert moved(before, after, requests, route=page, method="GET", status="3xx") == 1
    duration = "closeloop_console_request_duration_seconds_count"
    assert moved(before, after, duration, route="/login") == 2
    sign_ins = "closeloop_console_sign_ins_total"
    assert moved(before, after, sign_ins, outcome="refused", method="password") == 1
    assert "CL-2099-004242" not in after and "mallory" not in after


def test_the_probes_answer_on_the_metrics_port_and_the_public_port_has_no_metrics(tmp_path):
    nothing_listens = f"127.0.0.1:{free_port()}"
    with running_console(tmp_path, nothing_listens) as console:
        assert httpx.get(f"{console.metrics}/healthz", timeout=10).text == "ok\n"
        # The same readiness as the public /readyz: the database answers, Temporal does not.
        ready = httpx.get(f"{console.metrics}/readyz", timeout=30)
        assert ready.status_code == 503 and ready.text == "not ready: Temporal did not answer\n"
        assert httpx.get(f"{console.public}/metrics", timeout=10).status_code == 404
        # A path no route has is counted under one label, not under its own.
        assert 'route="/metrics"' not in console.scrape()


async def test_with_temporal_up_the_console_is_ready_and_relays_the_sdk_metrics(
    tmp_path, dev_server: WorkflowEnvironment
):
    address = dev_server.client.service_client.config.target_host
    with running_console(tmp_path, address) as console:
        async with httpx.AsyncClient(base_url=console.metrics, timeout=30) as prometheus:
            ready = await prometheus.get("/readyz")
            assert (ready.status_code, ready.text) == (200, "ready\n")
            scraped = (await prometheus.get("/metrics")).text
    # The client connected over the runtime that exports the SDK's metrics.
    assert re.search(r"^temporal_request\w*\{", scraped, re.MULTILINE), scraped[:2000]
    assert "closeloop_console_requests_total" in scraped


def test_a_taken_metrics_port_stops_the_console_with_an_error_naming_the_setting(tmp_path):
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))  # where the console's metrics listen: all interfaces
        taken.listen()
        port = taken.getsockname()[1]
        env = {**console_env(tmp_path, "127.0.0.1:1"), "CLOSELOOP_CONSOLE_METRICS_PORT": str(port)}
        result = subprocess.run(
            [sys.executable, "-m", "closeloop", "console", "--port", str(free_port())],
            env=env, capture_output=True, text=True, timeout=STARTUP_S,
        )  # fmt: skip
    assert result.returncode != 0
    assert f"CLOSELOOP_CONSOLE_METRICS_PORT / --metrics-port {port}" in result.stderr
    assert "taken" in result.stderr and "Traceback" not in result.stderr


def count(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_sign_ins_and_signed_decisions_are_counted_without_who(console):
    """In-process (the app's counters are this process's), on the real worker and Temporal."""
    signed_in = {"outcome": "succeeded", "method": "password"}
    triage = {"decision": "triage", "outcome": "accepted"}
    refused = {"decision": "investigate", "outcome": "refused"}
    before = [count("closeloop_console_sign_ins_total", **signed_in),
              count("closeloop_console_decisions_signed_total", **triage),
              count("closeloop_console_decisions_signed_total", **refused)]  # fmt: skip
    complaint_id = await console.start()
    async with console.signed_in("ann.op") as browser:
        stale = await form_of(browser, complaint_id, "triage")
        assert (await sign(browser, complaint_id, "triage", TRIAGE)).status_code == 303
        await console.wait_for(complaint_id, lambda s: s.status == "triaged")
        hidden = await form_of(browser, complaint_id, "investigate")
        late = await browser.post(
            f"/complaints/{complaint_id}/decide/investigate",
            data={**hidden, "state_hash": stale["state_hash"], "password": PASSWORD,
                  "method": "five_whys", "root_causes": "x"},
        )  # fmt: skip
        assert late.status_code == 409  # the workflow refused a decision on a stale view
    after = [count("closeloop_console_sign_ins_total", **signed_in),
             count("closeloop_console_decisions_signed_total", **triage),
             count("closeloop_console_decisions_signed_total", **refused)]  # fmt: skip
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]
    exposed = generate_latest(REGISTRY).decode()
    assert "ann.op" not in exposed and complaint_id not in exposed
