"""Timeouts, retry policies and the system actor shared by Closeloop's workflows."""

from __future__ import annotations

from datetime import timedelta

from temporalio.common import RetryPolicy

from schemas.decisions import Actor

SYSTEM_ACTOR = Actor(id="closeloop", name="Closeloop")

AUDIT_ACTIVITY_TIMEOUT = timedelta(seconds=30)
# The audit log must never be skipped: keep retrying a database outage with a capped backoff.
AUDIT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)

PUBLISH_ACTIVITY_TIMEOUT = timedelta(seconds=30)
# A broker outage delays status events and never loses them: retry without limit. The
# workflow sends them one at a time from an outbox, so decisions never wait for Kafka.
PUBLISH_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)
)

POLICY_ACTIVITY_TIMEOUT = timedelta(seconds=10)
