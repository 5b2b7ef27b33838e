"""Identity events as audit entries: who signed in, who failed, who changed which account."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from audit.models import NewEntry
from audit.store import AuditLog

# Identity entries are not about a complaint; they share this id so queries can pick them.
IDENTITY_SUBJECT = "identity"


class EntryType:
    LOGIN = "identity.login"
    LOGIN_FAILED = "identity.login_failed"
    LOGOUT = "identity.logout"
    USER_ADDED = "identity.user_added"
    USER_DISABLED = "identity.user_disabled"
    PASSWORD_RESET = "identity.password_reset"  # noqa: S105 (an entry type)
    ROLE_CHANGED = "identity.role_changed"
    TOTP_ENABLED = "identity.totp_enabled"
    TOKEN_ISSUED = "identity.token_issued"  # noqa: S105 (an entry type)
    TOKEN_REVOKED = "identity.token_revoked"  # noqa: S105 (an entry type)


def record(
    log: AuditLog,
    entry_type: str,
    *,
    actor: str,
    when: datetime,
    reason: str,
    data: dict[str, Any],
    key: str | None = None,
) -> int:
    """Append one identity entry; returns its seq. No secret ever goes into `data`."""
    entry = log.append(
        NewEntry(
            complaint_id=IDENTITY_SUBJECT,
            entry_type=entry_type,
            actor=actor[:128],
            occurred_at=when,
            reason=reason,
            data=data,
            idempotency_key=key or f"{entry_type}:{uuid.uuid4()}",
        )
    )
    return entry.seq
