"""Opening the identity service on the configured database (the audit log's database)."""

from __future__ import annotations

from dataclasses import dataclass

from audit.store import AuditLog
from base.settings import Settings
from identity.sessions import SessionStore
from identity.tokens import TokenStore
from identity.users import UserDirectory


@dataclass
class Identity:
    audit_log: AuditLog
    users: UserDirectory
    sessions: SessionStore
    tokens: TokenStore

    @classmethod
    def from_url(cls, url: str) -> Identity:
        audit_log = AuditLog.from_url(url)
        users = UserDirectory(audit_log.engine, audit_log)
        users.create_schema()
        return cls(
            audit_log, users, SessionStore(audit_log.engine), TokenStore(audit_log.engine, users)
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Identity:
        return cls.from_url(settings.resolved_database_url)

    def dispose(self) -> None:
        self.audit_log.dispose()
