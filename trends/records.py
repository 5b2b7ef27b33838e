"""The audit entries of trend analysis: the plan in force, each run, each signal, each send.

All under complaint id `trends` (an audit entry needs one; signals concern many complaints).
Idempotency keys make a retried activity or a repeated run write nothing twice: a signal is
keyed by its stable id, a run by its run id, a plan by its hash and the entry it follows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from audit.models import AuditEntry, NewEntry
from audit.store import AuditLog, EntryFilter
from schemas.quality_signal import SIGNAL_ENTRY, TRENDS_COMPLAINT_ID, QualitySignal
from trends.plan import MonitoringPlan

PLAN_ENTRY = "trends.plan"
RUN_ENTRY = "trends.run"
PUBLISHED_ENTRY = "trends.signal_published"
ACTOR = "closeloop-trends"


def _append(
    log: AuditLog, entry_type: str, key: str, at: datetime, data: dict[str, Any], reason: str
) -> AuditEntry:
    return log.append(
        NewEntry(
            complaint_id=TRENDS_COMPLAINT_ID,
            entry_type=entry_type,
            actor=ACTOR,
            occurred_at=at,
            reason=reason,
            data=data,
            idempotency_key=key,
        )
    )


def _of_type(log: AuditLog, entry_type: str) -> list[AuditEntry]:
    return log.entries(EntryFilter(complaint_id=TRENDS_COMPLAINT_ID, entry_type=entry_type))


def record_plan(log: AuditLog, plan: MonitoringPlan, source: str, at: datetime) -> AuditEntry:
    """The plan in force: a new entry only when its hash differs from the last one audited."""
    earlier = _of_type(log, PLAN_ENTRY)
    last = earlier[-1] if earlier else None
    if last is not None and last.data.get("plan_hash") == plan.content_hash:
        return last
    after = last.seq if last else 0
    data = {
        "plan_hash": plan.content_hash,
        "version": plan.version,
        "source": source,
        "previous_hash": last.data.get("plan_hash") if last else None,
        "plan": plan.canonical(),
    }
    reason = f"monitoring plan {plan.version} in force" + (" (changed)" if last else "")
    return _append(log, PLAN_ENTRY, f"trends.plan:{plan.content_hash}:{after}", at, data, reason)


def plans(log: AuditLog) -> list[AuditEntry]:
    return _of_type(log, PLAN_ENTRY)


def record_signal(log: AuditLog, signal: QualitySignal) -> tuple[AuditEntry, bool]:
    """The signal's entry, and whether this run wrote it (False: found in an earlier run)."""
    entry = _append(
        log, SIGNAL_ENTRY, f"trends.signal:{signal.signal_id}", signal.detected_at,
        signal.to_json(), signal.summary,
    )  # fmt: skip
    return entry, entry.data.get("run_id") == signal.run_id


def record_run(log: AuditLog, run_id: str, at: datetime, data: dict[str, Any]) -> AuditEntry:
    found = len(data.get("signals", []))
    reason = f"trend analysis: {found} signal(s), {len(data.get('new_signals', []))} new"
    return _append(log, RUN_ENTRY, f"trends.run:{run_id}", at, data, reason)


def record_published(log: AuditLog, signal_id: str, at: datetime, where: dict[str, Any]) -> None:
    data = {"signal_id": signal_id, **where}
    _append(log, PUBLISHED_ENTRY, f"trends.published:{signal_id}", at, data, "signal published")


def signals(log: AuditLog) -> list[tuple[AuditEntry, QualitySignal]]:
    """Every signal in the log, oldest first (the entry's data is the published event)."""
    return [(e, QualitySignal.model_validate(e.data)) for e in _of_type(log, SIGNAL_ENTRY)]


def published_ids(log: AuditLog) -> dict[str, AuditEntry]:
    return {str(e.data.get("signal_id")): e for e in _of_type(log, PUBLISHED_ENTRY)}


def runs(log: AuditLog) -> list[AuditEntry]:
    return _of_type(log, RUN_ENTRY)
