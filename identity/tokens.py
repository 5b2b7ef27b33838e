"""API tokens for the CLI (`closeloop login`): random, stored hashed, expiring, revocable.

A token stands for one user's sign-in with both components (password and TOTP when
enabled), so a decision command can sign as that user without asking again. The database
keeps only the SHA-256 of the token; a disabled user's tokens stop working at once.
Issuing and revoking are audit entries, with the token's short fingerprint, never the token.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from identity.records import EntryType, record
from identity.tables import ApiTokenRow
from identity.users import User, UserDirectory

DEFAULT_LIFETIME = timedelta(hours=12)
MAX_LIFETIME = timedelta(days=30)
PREFIX = "clt_"  # tells a Closeloop token apart in a secrets scanner or a pasted log


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def fingerprint(token: str) -> str:
    """A short, non-secret name for a token: the first 12 hex digits of its digest."""
    return _digest(token)[:12]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class TokenStore:
    def __init__(self, engine: Engine, users: UserDirectory) -> None:
        self.engine = engine
        self.users = users

    def issue(self, user: User, lifetime: timedelta = DEFAULT_LIFETIME) -> tuple[str, datetime]:
        """A new token for an authenticated user; returns it (shown once) and its expiry."""
        if not timedelta(0) < lifetime <= MAX_LIFETIME:
            raise ValueError(f"lifetime: between 1 minute and {MAX_LIFETIME.days} days")
        token = PREFIX + secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        expires_at = now + lifetime
        with Session(self.engine) as session, session.begin():
            session.execute(delete(ApiTokenRow).where(ApiTokenRow.expires_at < now))
            session.add(
                ApiTokenRow(
                    token_hash=_digest(token),
                    user_id=user.id,
                    created_at=now,
                    expires_at=expires_at,
                )
            )
        record(
            self.users.audit_log, EntryType.TOKEN_ISSUED, actor=user.username, when=now,
            reason=f"CLI token issued, expires {expires_at:%Y-%m-%d %H:%M} UTC",
            data={"username": user.username, "token": fingerprint(token),
                  "expires_at": expires_at.isoformat()},
        )  # fmt: skip
        return token, expires_at

    def user_for(self, token: str | None) -> User | None:
        """The enabled user a live token stands for; None if unknown, expired or revoked."""
        if not token or not token.startswith(PREFIX) or len(token) > 128:
            return None
        with Session(self.engine) as session:
            row = session.scalar(
                select(ApiTokenRow).where(ApiTokenRow.token_hash == _digest(token))
            )
            if row is None or row.revoked_at is not None:
                return None
            if _aware(row.expires_at) <= datetime.now(UTC):
                return None
            user_id = row.user_id
        user = self.users.get(user_id)
        return user if user is not None and not user.disabled else None

    def revoke(self, token: str) -> bool:
        """Revoke a token (logout); True if it was live. The audit entry names its owner."""
        now = datetime.now(UTC)
        with Session(self.engine) as session, session.begin():
            row = session.scalar(
                select(ApiTokenRow).where(ApiTokenRow.token_hash == _digest(token))
            )
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = now
            user_id = row.user_id
        user = self.users.get(user_id)
        username = user.username if user else f"user#{user_id}"
        record(
            self.users.audit_log, EntryType.TOKEN_REVOKED, actor=username, when=now,
            reason="CLI token revoked (logout)",
            data={"username": username, "token": fingerprint(token)},
        )  # fmt: skip
        return True
