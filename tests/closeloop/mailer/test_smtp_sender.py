"""The built-in SMTP sender against a real SMTP server (aiosmtpd, STARTTLS) and a real broker:
each message arrives once with its rendered content, temporary trouble is retried, a refusal
is reported, and a restarted sender (even one that lost its offsets) sends nothing twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from closeloop.mailer.ledger import Ledger
from closeloop.mailer.reports import Reporter
from closeloop.mailer.service import Mailer
from closeloop.mailer.settings import MailerSettings
from schemas.decoding import decode_update
from tests.closeloop.mailer.conftest import (
    SmtpServer,
    customer_message,
    eventually,
    publish,
    reports,
)


def settings_for(server: SmtpServer, **changes: object) -> MailerSettings:
    fields: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "security": "starttls",
        "ca_file": server.ca_file,
        "sender": "complaints@kettles.example",
        "group_id": f"mailer-{uuid.uuid4().hex[:8]}",
        "retry_budget_s": 60.0,
    }
    return MailerSettings(**{**fields, **changes})


@contextmanager
def running(settings: MailerSettings, bootstrap: str, ledger_path: Path) -> Iterator[None]:
    stop = threading.Event()
    ledger, reporter = Ledger(ledger_path), Reporter(bootstrap)
    thread = threading.Thread(
        target=Mailer(settings, ledger, reporter, stop).run, args=(bootstrap,), daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=60)
        reporter.close()
        ledger.close()
        assert not thread.is_alive()


def reports_for(bootstrap: str, message_id: str) -> list[dict]:
    return [r for r in reports(bootstrap) if r.get("message_id") == message_id]


def test_a_message_arrives_over_starttls_with_its_rendered_content_and_is_reported(
    smtp_server, bootstrap, tmp_path
):
    message = customer_message()
    publish(bootstrap, message)
    with running(settings_for(smtp_server), bootstrap, tmp_path / "ledger.sqlite"):
        eventually(lambda: reports_for(bootstrap, message.message_id), "delivery report")
    (received,) = smtp_server.handler.received
    assert received.over_tls
    assert received.envelope_to == ["ada@example.com"]
    assert received.email["Subject"] == message.subject
    assert received.email["From"] == "complaints@kettles.example"
    assert "Ada Example" in received.email["To"]
    assert received.email.get_content().replace("\r\n", "\n") == message.body  # SMTP: CRLF
    assert received.email["Content-Language"] == "en"
    (report,) = reports_for(bootstrap, message.message_id)
    event = decode_update(json.dumps(report).encode(), message.complaint_id.encode(), None)
    assert event.event_type == "message.delivered"
    assert event.complaint_id == message.complaint_id


def test_a_temporary_smtp_failure_is_retried_and_the_message_delivered_once(
    smtp_server, bootstrap, tmp_path
):
    smtp_server.handler.refusals = ["451 4.3.0 Try again later", "421 4.7.0 Busy"]
    message = customer_message()
    publish(bootstrap, message)
    with running(settings_for(smtp_server), bootstrap, tmp_path / "ledger.sqlite"):
        eventually(lambda: reports_for(bootstrap, message.message_id), "delivery report")
    assert [r.email["Subject"] for r in smtp_server.handler.received] == [message.subject]
    assert [r["event_type"] for r in reports_for(bootstrap, message.message_id)] == [
        "message.delivered"
    ]


def test_a_permanent_refusal_is_reported_as_failed_without_the_address(
    smtp_server, bootstrap, tmp_path
):
    smtp_server.handler.refusals = ["550 5.1.1 <ada@example.com>: mailbox unavailable"]
    message = customer_message()
    publish(bootstrap, message)
    with running(settings_for(smtp_server), bootstrap, tmp_path / "ledger.sqlite"):
        (report,) = eventually(lambda: reports_for(bootstrap, message.message_id), "failure report")
    assert report["event_type"] == "message.failed" and report["permanent"] is True
    assert report["reason"].startswith("550") and "ada@example.com" not in report["reason"]
    assert smtp_server.handler.received == []


def mailer_process(server: SmtpServer, bootstrap: str, home: Path, group: str, log: Path):
    env = {
        **os.environ,
        "CLOSELOOP_HOME": str(home),
        "CLOSELOOP_KAFKA_BOOTSTRAP": bootstrap,
        "CLOSELOOP_LOG_FORMAT": "json",
        "CLOSELOOP_LOG_LEVEL": "debug",
        "CLOSELOOP_SMTP_HOST": server.host,
        "CLOSELOOP_SMTP_PORT": str(server.port),
        "CLOSELOOP_SMTP_SECURITY": "starttls",
        "CLOSELOOP_SMTP_CA_FILE": str(server.ca_file),
        "CLOSELOOP_SMTP_USERNAME": "",
        "CLOSELOOP_SMTP_PASSWORD": "s3cret-never-logged",
        "CLOSELOOP_SMTP_GROUP_ID": group,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "closeloop", "mailer"],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(timeout=60) == 0


def test_a_restarted_sender_sends_nothing_twice_and_logs_no_personal_data(
    smtp_server, bootstrap, tmp_path
):
    first, second = customer_message(), customer_message()
    publish(bootstrap, first, second)
    log = tmp_path / "mailer.log"
    process = mailer_process(smtp_server, bootstrap, tmp_path, "mailer-a", log)
    try:
        eventually(lambda: len(smtp_server.handler.received) == 2, "two messages sent")
        eventually(lambda: reports_for(bootstrap, second.message_id), "second report")
    finally:
        stop(process)

    # The workflow's publish was retried (same message id again), and the restarted sender
    # lost its offsets (a new consumer group): it reads all three, and sends none of them.
    publish(bootstrap, first)
    process = mailer_process(smtp_server, bootstrap, tmp_path, "mailer-b", log)
    try:
        eventually(lambda: log.read_text().count("already sent") >= 3, "the restart read all")
    finally:
        stop(process)
    assert len(smtp_server.handler.received) == 2
    assert len(reports_for(bootstrap, first.message_id)) == 1
    text = log.read_text()
    for personal in ("ada@example.com", "Ada Example", "s3cret-never-logged"):
        assert personal not in text
    assert first.message_id in text
