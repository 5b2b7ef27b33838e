"""The whole path on the real stack with the built-in sender: `closeloop up` starts
`closeloop mailer` when CLOSELOOP_SMTP_HOST is set; a complaint's acknowledgment arrives at a
real SMTP server (STARTTLS), its delivery comes back and is audited, and `down` stops it."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import pytest

from audit.store import EntryFilter
from closeloop.stack import free_port, free_temporal_port
from tests.closeloop.mailer.conftest import SmtpServer
from tests.conftest import LocalStack, eventually
from tests.e2e.test_intake import complaint_event, publish_with_kafka_python

pytestmark = [pytest.mark.e2e]


async def test_closeloop_up_starts_the_mailer_and_the_acknowledgment_is_delivered(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    env = {
        **os.environ,
        "CLOSELOOP_HOME": str(home),
        "CLOSELOOP_TEMPORAL_ADDRESS": f"127.0.0.1:{free_temporal_port()}",
        "CLOSELOOP_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}",
        "CLOSELOOP_DATABASE_URL": f"sqlite:///{home / 'audit.db'}",
        "CLOSELOOP_LOG_FORMAT": "json",
        "CLOSELOOP_SMTP_HOST": smtp_server.host,
        "CLOSELOOP_SMTP_PORT": str(smtp_server.port),
        "CLOSELOOP_SMTP_CA_FILE": str(smtp_server.ca_file),
        "CLOSELOOP_MESSAGES": '{"language": "de"}',
    }
    stack = LocalStack(home=home, env=env, database_url=env["CLOSELOOP_DATABASE_URL"])
    stack.cli("up", "--detach", check=True)
    try:
        status = stack.cli("status")
        assert "mailer" in status.stdout, status.stdout
        complaint_id = f"MAIL-{uuid.uuid4().hex[:8]}"
        publish_with_kafka_python(stack, complaint_event(complaint_id))

        def delivered() -> list:
            log = stack.audit_log()
            try:
                return log.entries(
                    EntryFilter(complaint_id=complaint_id, entry_type="complaint.message_delivered")
                )
            finally:
                log.engine.dispose()

        entries = await eventually(lambda: asyncio.to_thread(delivered), bool, timeout=180)
        assert entries, stack.logs()
        (received,) = smtp_server.handler.received
        assert received.over_tls and received.envelope_to == ["t@example.com"]
        assert (
            complaint_id in received.email["Subject"] and "Reklamation" in received.email["Subject"]
        )
    finally:
        stack.cli("down", check=True)
    assert not (home / "run" / "mailer.pid").exists()
