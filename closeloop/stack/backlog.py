"""What `closeloop status` checks beyond the parts: work not done and a log left unsigned.

- Consumer lag: events the stream's consumer group has not committed yet, per input topic
  (summed over its partitions). Offsets are committed only after Temporal accepted, so a
  growing lag means events wait for their effect.
- Checkpoint age: seconds since the audit log's latest signed checkpoint (with none yet:
  since its first entry). An old checkpoint over new entries means no worker signs.

Each has a bound; passing it fails `status` (exit 1), like a part that is down.
"""

from __future__ import annotations

from dataclasses import dataclass

from audit.freshness import freshness
from audit.store import AuditLog, AuditLogMissing
from base.consumer_lag import STREAM_INPUT_TOPICS, group_lag, lag_by_topic
from base.settings import Settings
from closeloop.stack.layout import StackLayout


@dataclass(frozen=True)
class BacklogCheck:
    name: str  # "lag <topic>" or "checkpoint age"
    value: str
    ok: bool
    detail: str = ""


def consumer_lag(settings: Settings, max_lag: int) -> list[BacklogCheck]:
    try:
        lags = group_lag(
            settings.kafka_bootstrap, settings.stream_app_id, STREAM_INPUT_TOPICS, timeout_s=5
        )
    except Exception as exc:  # any broker failure: the lag is unknown, which is not fine
        return [
            BacklogCheck(
                "consumer lag", "-", False, f"broker did not answer ({type(exc).__name__})"
            )
        ]
    totals = lag_by_topic(lags)
    checks = []
    for topic in STREAM_INPUT_TOPICS:
        if topic not in totals:
            checks.append(BacklogCheck(f"lag {topic}", "-", False, "topic missing"))
            continue
        lag = totals[topic]
        bound = f"bound {max_lag}"
        checks.append(
            BacklogCheck(
                f"lag {topic}",
                str(lag),
                lag <= max_lag,
                bound if lag <= max_lag else f"over {bound}",
            )
        )
    return checks


def checkpoint_age(settings: Settings, max_age_s: float) -> BacklogCheck:
    url = settings.database_url
    if not url:  # the local default; never create CLOSELOOP_HOME or the file to look
        path = StackLayout.of(settings).home / "audit.db"
        if not path.exists():
            return BacklogCheck("checkpoint age", "-", True, "no audit log yet")
        url = f"sqlite:///{path}"
    try:
        audit_log = AuditLog.from_url(url, create=False)
    except AuditLogMissing:
        return BacklogCheck("checkpoint age", "-", True, "no audit log yet")
    try:
        state = freshness(audit_log)
    except Exception as exc:  # the database is away
        return BacklogCheck(
            "checkpoint age", "-", False, f"database did not answer ({type(exc).__name__})"
        )
    finally:
        audit_log.dispose()
    age = state.checkpoint_age_s
    what = state.latest.label if state.latest else "no checkpoint yet"
    detail = f"{what}, {state.entries_since_checkpoint} entries since; bound {max_age_s:g} s"
    # An age over the bound matters only while entries wait for a signature.
    ok = age <= max_age_s or state.entries_since_checkpoint == 0
    return BacklogCheck("checkpoint age", f"{age:.0f} s", ok, detail if ok else f"over: {detail}")
