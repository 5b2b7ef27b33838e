"""Writing audit entries from workflows: the only way a workflow touches the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import structlog
from pydantic import BaseModel, Field
from temporalio import activity

from activities.metrics import APPEND_LATENCY, count_written
from audit.models import NewEntry
from audit.store import AuditLog
from base.tracing import tracer

log = structlog.get_logger(__name__)


class RecordAuditEntry(BaseModel):
    """Activity input. The idempotency key makes activity retries write nothing twice."""

    complaint_id: str
    entry_type: str
    actor: str
    occurred_at: datetime
    idempotency_key: str
    reason: str = ""
    data: dict[str, Any] = Field(default_factory=dict)


class AuditReceipt(BaseModel):
    """Where the entry landed in the chain, for the workflow's history and its query."""

    seq: int
    entry_hash: str


class AuditActivities:
    """Holds the audit log so one engine (and its connection pool) serves every activity."""

    def __init__(self, audit_log: AuditLog) -> None:
        self._audit_log = audit_log

    @activity.defn(name="record_audit_entry")
    def record_audit_entry(self, request: RecordAuditEntry) -> AuditReceipt:
        info = activity.info()
        span_attributes = {
            "closeloop.complaint_id": request.complaint_id,
            "closeloop.entry_type": request.entry_type,
        }
        with (
            tracer().start_as_current_span(
                "closeloop.audit.append", attributes=span_attributes
            ) as span,
            APPEND_LATENCY.time(),
        ):
            entry, written = self._audit_log.record(
                NewEntry(
                    complaint_id=request.complaint_id,
                    entry_type=request.entry_type,
                    actor=request.actor,
                    occurred_at=request.occurred_at,
                    reason=request.reason,
                    data=request.data,
                    idempotency_key=request.idempotency_key,
                )
            )
            span.set_attribute("closeloop.audit_seq", entry.seq)
        if written:
            count_written(request.entry_type)
        log.info(
            "audit entry recorded",
            complaint_id=request.complaint_id,
            workflow_id=info.workflow_id,
            entry_type=request.entry_type,
            seq=entry.seq,
        )
        return AuditReceipt(seq=entry.seq, entry_hash=entry.entry_hash)
