"""Real servers for the SMTP sender: a Tansu broker and an aiosmtpd SMTP server with STARTTLS.

The SMTP server's certificate is made here (self-signed for 127.0.0.1) and handed to the
sender as its CA file, as an operator with a private CA would. The server can be told to
answer the next DATA commands with a temporary (451) or permanent (550) refusal.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import signal
import ssl
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from closeloop.stack.processes import free_port
from closeloop.stack.services import broker_bin, create_topics, wait_for_broker
from schemas.contract import examples_dir
from schemas.customer_message import CustomerMessage, content_hash
from schemas.topics import COMPLAINTS_UPDATES, CUSTOMER_MESSAGES

BUDGET = 120.0  # wall-clock seconds: a consumer group's first join on Tansu takes 5-30 s


@dataclass
class Received:
    envelope_to: list[str]
    email: EmailMessage
    over_tls: bool


@dataclass
class RecordingHandler:
    """aiosmtpd handler: keeps every accepted message; refuses on request."""

    received: list[Received] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # replies for the next DATA commands

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refusals:
            return self.refusals.pop(0)
        email = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(email, EmailMessage)
        self.received.append(Received(list(envelope.rcpt_tos), email, session.ssl is not None))
        return "250 2.0.0 Ok: queued"


@dataclass
class SmtpServer:
    host: str
    port: int
    ca_file: Path
    handler: RecordingHandler


def _certificate(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    cert, key = _certificate(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(
        handler, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True
    )
    controller.start()
    try:
        yield SmtpServer("127.0.0.1", port, cert, handler)
    finally:
        controller.stop()


@pytest.fixture
def bootstrap(tmp_path: Path) -> Iterator[str]:
    """A Tansu broker of this test's own (it keeps data in memory), with every topic."""
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    log = (tmp_path / "broker.log").open("wb")
    process = subprocess.Popen(
        [broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--storage-engine", "memory://tansu/"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    address = f"127.0.0.1:{port}"
    try:
        wait_for_broker(address, timeout=60)
        create_topics(address)
        yield address
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
        log.close()


def customer_message(complaint_id: str | None = None, **changes: Any) -> CustomerMessage:
    document = json.loads(
        (examples_dir(CUSTOMER_MESSAGES) / "acknowledgment.json").read_text(encoding="utf-8")
    )
    complaint_id = complaint_id or f"C-{uuid.uuid4().hex[:8]}"
    document.update(
        complaint_id=complaint_id,
        message_id=f"{complaint_id}:acknowledgment:1",
        subject=f"We received your complaint {complaint_id}",
    )
    document.update(changes)
    document["content_hash"] = content_hash(document["subject"], document["body"])
    return CustomerMessage.model_validate(document)


def publish(bootstrap: str, *messages: CustomerMessage) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all")
    for message in messages:
        producer.send(
            CUSTOMER_MESSAGES,
            key=message.complaint_id.encode(),
            value=message.model_dump_json(exclude_none=True).encode(),
        ).get(timeout=30)
    producer.close()


def reports(bootstrap: str) -> list[dict[str, Any]]:
    """Every event on complaints.updates.v1 so far (read to the end offsets), as JSON."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    partitions = [
        TopicPartition(COMPLAINTS_UPDATES, p)
        for p in consumer.partitions_for_topic(COMPLAINTS_UPDATES) or []
    ]
    consumer.assign(partitions)
    consumer.seek_to_beginning(*partitions)
    ends = consumer.end_offsets(partitions)
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + BUDGET
    while any(consumer.position(tp) < ends[tp] for tp in partitions):
        assert time.monotonic() < deadline, "could not read complaints.updates.v1 to its end"
        for records in consumer.poll(timeout_ms=500).values():
            found += [json.loads(record.value) for record in records]
    consumer.close()
    return found


def eventually(check: Any, what: str, budget: float = BUDGET) -> Any:
    deadline = time.monotonic() + budget
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {budget:g} s")
        time.sleep(0.2)
