"""Operators alert on these: the real endpoints of a running stack, scraped as events flow.

One stack for the module, with the worker's and the stream processor's metrics ports set
(as the manifests do) and automatic checkpoints pushed far away, so each test decides when
the audit log is signed.
"""

from __future__ import annotations

import asyncio
import json
import re
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator

import pytest
from kafka import KafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from base.consumer_lag import STREAM_INPUT_TOPICS
from closeloop.stack.processes import free_port
from schemas import topics
from tests.conftest import REPO_ROOT, LocalStack, eventually, start_local_stack
from tests.e2e.test_intake import complaint_event

pytestmark = pytest.mark.e2e

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
# The long-running parts of the stack that serve probes and metrics on a port of their own.
PARTS = ("worker", "stream", "console")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    home = tmp_path_factory.mktemp("stack-metrics")
    ports = {
        "CLOSELOOP_WORKER_METRICS_PORT": str(free_port()),
        "CLOSELOOP_STREAM_METRICS_PORT": str(free_port()),
        "CLOSELOOP_CONSOLE_METRICS_PORT": str(free_port()),
    }
    stack = start_local_stack(
        home,
        f"sqlite:///{home / 'audit.db'}",
        {
            **ports,
            "CLOSELOOP_STREAM_LAG_INTERVAL_S": "1",
            "CLOSELOOP_STREAM_UNKNOWN_COMPLAINT_WAIT_S": "45",
            "CLOSELOOP_AUDIT_CHECKPOINT_INTERVAL": "86400",
            "CLOSELOOP_AUDIT_CHECKPOINT_ENTRIES": "1000000",
            "CLOSELOOP_AUDIT_PUBLISH_CHECKPOINTS": "false",
        },
    )
    yield stack
    stack.cli("down")


def port(stack: LocalStack, part: str) -> int:
    return int(stack.env[f"CLOSELOOP_{part.upper()}_METRICS_PORT"])


def get(stack: LocalStack, part: str, path: str) -> tuple[int, str]:
    url = f"http://127.0.0.1:{port(stack, part)}{path}"
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except OSError as error:
        return 0, str(error)


def scrape(stack: LocalStack, part: str) -> Samples:
    status, body = get(stack, part, "/metrics")
    assert status == 200, body
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sum over the series of `name` whose labels include `labels` (0 when none yet)."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


async def wait_for(stack: LocalStack, part: str, until, timeout: float = 120.0) -> Samples:
    samples = await eventually(
        lambda: asyncio.to_thread(scrape, stack, part), until, timeout=timeout
    )
    mine = {n: v for (n, _), v in samples.items() if n.startswith("closeloop_audit")}
    assert until(samples), f"{part} metrics never got there: {mine}\n{stack.logs()}"
    return samples


def publish(stack: LocalStack, topic: str, *messages: tuple[bytes, bytes]) -> None:
    producer = KafkaProducer(bootstrap_servers=stack.env["CLOSELOOP_KAFKA_BOOTSTRAP"], acks="all")
    try:
        for key, raw in messages:
            producer.send(topic, key=key, value=raw).get(timeout=30)
    finally:
        producer.close()


def complaints(n: int) -> list[tuple[bytes, bytes]]:
    ids = [f"MET-{uuid.uuid4().hex[:10]}" for _ in range(n)]
    return [(cid.encode(), json.dumps(complaint_event(cid)).encode()) for cid in ids]


def documented_names() -> set[str]:
    """The metric names the README's "Probes and metrics" section promises, braces expanded."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("### Probes and metrics", 1)[1].split("\n### ", 1)[0]
    names = set()
    for token in re.findall(r"`(closeloop_[^`]+)`", section):
        choices = re.fullmatch(r"([a-z_]+)\{([a-z_,]+)\}(_[a-z_]+)", token)
        if choices:  # name_{a,b}_total: one name per choice
            stem, options, tail = choices.groups()
            names |= {f"{stem}{option}{tail}" for option in options.split(",")}
        else:  # name{label,label}: the labels are not part of the name
            names.add(re.sub(r"\{[a-z_,]+\}$", "", token))
    return names


async def answer(stack: LocalStack, part: str, path: str) -> tuple[int, str]:
    """The first 200 of `path`, or the last answer. The processes may still be importing,
    and the stream serves from its first join of the consumer group, which takes 5 to 30 s
    on Tansu and longer on a busy machine."""
    return await eventually(
        lambda: asyncio.to_thread(get, stack, part, path),
        lambda answer: answer[0] == 200,
        timeout=240,
    )


async def test_probes_answer_and_every_documented_metric_is_exported(stack):
    for part in PARTS:
        live = await answer(stack, part, "/healthz")
        assert live == (200, "ok\n"), f"{part}: {live}\n{stack.logs()}"
        ready = await answer(stack, part, "/readyz")
        assert ready == (200, "ready\n"), f"{part}: {ready}\n{stack.logs()}"
    bodies = {part: get(stack, part, "/metrics")[1] for part in PARTS}
    names = documented_names()
    assert len(names) >= 12, names
    missing = {n for n in names if not any(n in body for body in bodies.values())}
    assert not missing, f"documented but not exported: {missing}"
    for part, body in bodies.items():
        assert "temporal_" in body, f"{part} does not relay the Temporal SDK's metrics"


async def test_published_complaints_move_the_counters_and_the_lag_returns_to_zero(stack):
    n = 5
    topic = topics.COMPLAINTS_RECEIVED
    before = scrape(stack, "stream")
    worker_before = scrape(stack, "worker")
    publish(stack, topic, *complaints(n))

    def accepted(samples: Samples) -> float:
        return value(samples, "closeloop_stream_events_accepted_total", topic=topic) - value(
            before, "closeloop_stream_events_accepted_total", topic=topic
        )

    after = await wait_for(stack, "stream", lambda s: accepted(s) >= n)
    assert accepted(after) == n
    started = ("closeloop_stream_events_accepted_total", {"topic": topic, "outcome": "started"})
    assert value(after, started[0], **started[1]) - value(before, started[0], **started[1]) == n
    for name in (
        "closeloop_stream_events_consumed_total",
        "closeloop_stream_accept_latency_seconds_count",
    ):
        assert value(after, name, topic=topic) - value(before, name, topic=topic) == n, name
    opened = "closeloop_complaints_opened_total"
    worker = await wait_for(
        stack, "worker", lambda s: value(s, opened) - value(worker_before, opened) >= n
    )
    assert value(worker, opened) - value(worker_before, opened) == n
    appends = "closeloop_audit_append_latency_seconds_count"
    assert value(worker, appends) - value(worker_before, appends) >= n
    lagging = await wait_for(
        stack,
        "stream",
        lambda s: (
            all(
                value(s, "closeloop_stream_consumer_lag", topic=t) == 0 for t in STREAM_INPUT_TOPICS
            )
            and any(n == "closeloop_stream_consumer_lag" for n, _ in s)
        ),
    )
    partitions = {
        dict(ls)["partition"] for n, ls in lagging if n == "closeloop_stream_consumer_lag"
    }
    assert partitions, "no partition's lag exported"


async def test_a_dead_letter_counts_under_its_reason(stack):
    topic = topics.COMPLAINTS_RECEIVED
    name = "closeloop_stream_events_dead_lettered_total"
    before = scrape(stack, "stream")
    publish(stack, topic, (b"MET-BROKEN", b"{not json"))
    after = await wait_for(
        stack,
        "stream",
        lambda s: value(s, name, reason="invalid") - value(before, name, reason="invalid") >= 1,
    )
    assert (
        value(after, name, topic=topic, reason="invalid")
        - value(before, name, topic=topic, reason="invalid")
        == 1
    )
    consumed = "closeloop_stream_events_consumed_total"
    assert value(after, consumed, topic=topic) - value(before, consumed, topic=topic) == 1
    accepted = "closeloop_stream_events_accepted_total"
    assert value(after, accepted, topic=topic) == value(before, accepted, topic=topic)


async def test_the_checkpoint_age_resets_when_a_checkpoint_is_signed(stack):
    publish(stack, topics.COMPLAINTS_RECEIVED, *complaints(1))
    since, age = (
        "closeloop_audit_entries_since_checkpoint",
        "closeloop_audit_checkpoint_age_seconds",
    )
    unsigned = await wait_for(
        stack, "worker", lambda s: value(s, since) >= 1 and value(s, age) >= 15
    )

    async def sign() -> Samples:
        """Sign what is there; the age falls as soon as the worker reads the new checkpoint.
        (Earlier complaints may still be adding entries, so sign again until none waits.)"""
        signed = await asyncio.to_thread(stack.cli, "audit", "checkpoint", "--no-publish")
        assert signed.returncode == 0, signed.stdout + signed.stderr
        return await wait_for(
            stack,
            "worker",
            lambda s: value(s, age) < value(unsigned, age) or value(s, since) == 0,
        )

    after = await eventually(sign, lambda s: value(s, since) == 0, timeout=180, interval=1)
    assert value(after, since) == 0
    assert value(after, age) < value(unsigned, age)


def status(stack: LocalStack, *options: str):
    return stack.cli("status", *options)


def check_line(output: str, name: str) -> str:
    return next(line for line in output.splitlines() if line.split()[:2] == name.split()[:2])


async def test_status_shows_lag_and_checkpoint_age_and_fails_past_their_bounds(stack):
    # A follow-up of a complaint that does not exist waits (here 45 s) before its dead
    # letter: meanwhile it is lag on complaints.updates.v1.
    event = {
        "event_id": str(uuid.uuid4()),
        "event_type": "customer.activity",
        "occurred_at": "2026-01-05T10:00:00Z",
        "source": "e2e-test",
        "complaint_id": "MET-NOBODY",
        "activity": "purchase",
    }
    publish(stack, topics.COMPLAINTS_UPDATES, (b"MET-NOBODY", json.dumps(event).encode()))
    lag_line = f"lag {topics.COMPLAINTS_UPDATES}"
    waiting = await eventually(
        lambda: asyncio.to_thread(status, stack, "--max-lag", "0", "--max-checkpoint-age", "86400"),
        lambda result: "over bound 0" in check_line(result.stdout, lag_line),
        timeout=40,
    )
    assert waiting.returncode == 1, waiting.stdout
    assert "failing" in check_line(waiting.stdout, lag_line)
    loose = status(stack, "--max-lag", "1000", "--max-checkpoint-age", "86400")
    assert loose.returncode == 0, loose.stdout + loose.stderr
    assert "ok" in check_line(loose.stdout, lag_line).split()
    # Unsigned entries and a bound of 0 s: the checkpoint is too old.
    publish(stack, topics.COMPLAINTS_RECEIVED, *complaints(1))
    stale = await eventually(
        lambda: asyncio.to_thread(status, stack, "--max-checkpoint-age", "0", "--max-lag", "1000"),
        lambda result: result.returncode == 1,
    )
    assert "over:" in check_line(stale.stdout, "checkpoint age"), stale.stdout
    dead = "closeloop_stream_events_dead_lettered_total"
    await wait_for(
        stack, "stream", lambda s: value(s, dead, reason="unknown_complaint") >= 1, timeout=120
    )
