"""Audit-append latency and the business counters, counted where entries are written.

Complaints opened, closed and overdue escalations are counted from the audit entries the
`record_audit_entry` activity writes, and only when that call wrote the entry
(`AuditLog.record` says so): an activity retried on another worker finds its idempotency key
and counts nothing. Each entry is thus counted once across all workers, and
`sum(closeloop_complaints_opened_total)` over the workers is the number of complaints
received, whatever the number of workers or retries.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

APPEND_LATENCY = Histogram(
    "closeloop_audit_append_latency_seconds",
    "Time to append one audit entry (hash chain included), as the worker's activity sees it",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
OPENED = Counter("closeloop_complaints_opened", "Complaints received (complaint.received)")
CLOSED = Counter("closeloop_complaints_closed", "Complaints closed (complaint.closed)")
OVERDUE_ESCALATIONS = Counter(
    "closeloop_complaints_overdue_escalations",
    "Overdue escalations: a stage deadline (complaint.escalated) or a CAPA action "
    "(capa.action_overdue) passed",
)

BUSINESS_COUNTERS: dict[str, Counter] = {
    "complaint.received": OPENED,
    "complaint.closed": CLOSED,
    "complaint.escalated": OVERDUE_ESCALATIONS,
    "capa.action_overdue": OVERDUE_ESCALATIONS,
}


def count_written(entry_type: str) -> None:
    """Count a newly written entry in its business counter, if it has one."""
    counter = BUSINESS_COUNTERS.get(entry_type)
    if counter is not None:
        counter.inc()
