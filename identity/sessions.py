"""Server-side console sessions: random tokens, stored hashed, with an absolute expiry.

A visitor gets an anonymous session (it carries the CSRF token of the sign-in form); signing
in replaces it with a new one under a new token, so a token planted before sign-in is worth
nothing after it (session fixation).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from identity.tables import SessionRow

DEFAULT_LIFETIME = timedelta(hours=8)


@dataclass(frozen=True)
class ConsoleSession:
    token: str
    user_id: int | None
    csrf_token: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class SessionStore:
    def __init__(self, engine: Engine, lifetime: timedelta = DEFAULT_LIFETIME) -> None:
        self.engine = engine
        self.lifetime = lifetime

    def create(self, user_id: int | None = None) -> ConsoleSession:
        token = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        # An anonymous session only needs to outlive one sign-in form.
        lifetime = self.lifetime if user_id is not None else min(self.lifetime, timedelta(hours=1))
        csrf_token, expires_at = secrets.token_urlsafe(32), now + lifetime
        row = SessionRow(
            token_hash=_digest(token),
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=now,
            expires_at=expires_at,
        )
        with Session(self.engine) as session, session.begin():
            session.execute(delete(SessionRow).where(SessionRow.expires_at < now))
            session.add(row)
        return ConsoleSession(token, user_id, csrf_token, expires_at)

    def get(self, token: str | None) -> ConsoleSession | None:
        if not token or len(token) > 128:
            return None
        with Session(self.engine) as session:
            row = session.scalar(select(SessionRow).where(SessionRow.token_hash == _digest(token)))
            if row is None:
                return None
            expires = (
                row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
            )
            if expires <= datetime.now(UTC):
                return None
            return ConsoleSession(token, row.user_id, row.csrf_token, expires)

    def sign_in(self, old_token: str | None, user_id: int) -> ConsoleSession:
        """End the old session and start a new one for the user, under a new token."""
        self.destroy(old_token)
        return self.create(user_id)

    def destroy(self, token: str | None) -> None:
        if token:
            with Session(self.engine) as session, session.begin():
                session.execute(delete(SessionRow).where(SessionRow.token_hash == _digest(token)))
