"""Kafka topic names: the contract with upstream and downstream systems."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    purpose: str


COMPLAINTS_RECEIVED = "complaints.received.v1"
COMPLAINTS_UPDATES = "complaints.updates.v1"
COMPLAINTS_STATUS = "complaints.status.v1"
COMPLAINTS_DLQ = "complaints.dlq.v1"
AUDIT_CHECKPOINTS = "audit.checkpoints.v1"
OPERATIONS_SHIPMENTS = "operations.shipments.v1"
QUALITY_SIGNALS = "quality.signals.v1"
CUSTOMER_MESSAGES = "complaints.customer-messages.v1"

ALL_TOPICS: tuple[TopicSpec, ...] = (
    TopicSpec(COMPLAINTS_RECEIVED, 6, "new complaints from upstream systems (key: complaint id)"),
    TopicSpec(COMPLAINTS_UPDATES, 6, "follow-up facts about a complaint (key: complaint id)"),
    TopicSpec(COMPLAINTS_STATUS, 6, "outbound: every status change (key: complaint id)"),
    TopicSpec(COMPLAINTS_DLQ, 1, "dead letters: rejected input with reason and original bytes"),
    TopicSpec(AUDIT_CHECKPOINTS, 1, "signed audit-log checkpoints, for witnesses"),
    TopicSpec(OPERATIONS_SHIPMENTS, 1, "units shipped per product and month, from the ERP"),
    TopicSpec(QUALITY_SIGNALS, 1, "outbound: trend signals of the monitoring plan (key: rule)"),
    TopicSpec(CUSTOMER_MESSAGES, 4, "outbound: messages to the complainant (key: complaint id)"),
)
