"""How much of the audit log no signed checkpoint covers yet, and for how long.

A log that grows while no checkpoint is signed (no worker, a refused or missing key) is
tamper-evident by its hash chain only: operators alert on it. The worker exports both
figures as gauges and `closeloop status` checks the age against a bound.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from audit.checkpoints import SignedCheckpoint
from audit.store import AuditLog


@dataclass(frozen=True)
class Freshness:
    entries_since_checkpoint: int
    # Seconds since the latest checkpoint was signed; with none yet, since the first entry
    # (how long the log has gone unsigned); 0 for an empty log.
    checkpoint_age_s: float
    latest: SignedCheckpoint | None


def freshness(audit_log: AuditLog, now: datetime | None = None) -> Freshness:
    now = now or datetime.now(UTC)
    latest = audit_log.latest_checkpoint()
    count = audit_log.count()
    since = count - (latest.tree_size if latest else 0)
    if latest is not None:
        signed_at = latest.checkpoint.timestamp
    else:
        first = audit_log.get(1) if count else None
        signed_at = first.recorded_at if first is not None else now
    return Freshness(since, max(0.0, (now - signed_at).total_seconds()), latest)
