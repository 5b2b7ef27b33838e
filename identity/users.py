"""The user directory: accounts, roles, authentication with throttling, and their audit.

Every change and every sign-in attempt is an audit entry written after the database
change succeeded, with one idempotency key per event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, inspect, select
from sqlalchemy.orm import Session

from audit.store import AuditLog
from identity import passwords, totp
from identity.records import EntryType, record
from identity.roles import Permission, Role, allows
from identity.tables import IdentityBase, UserRow

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
MAX_FAILURES = 5  # consecutive failures before the account is locked for a while
LOCKOUT = timedelta(minutes=15)


class IdentityError(ValueError):
    """A request about accounts that cannot be done; the message names the field."""


class AuthenticationFailed(Exception):
    """Sign-in or signature refused. The message never says which part was wrong."""

    def __init__(self, message: str = "wrong user name, password or code") -> None:
        super().__init__(message)


@dataclass(frozen=True)
class User:
    id: int
    username: str
    full_name: str
    role: Role
    disabled: bool
    totp_enabled: bool

    def can(self, permission: Permission) -> bool:
        return not self.disabled and allows(self.role, permission)

    @property
    def label(self) -> str:
        return f"{self.full_name} ({self.username})"


def _user(row: UserRow) -> User:
    return User(
        id=row.id,
        username=row.username,
        full_name=row.full_name,
        role=Role(row.role),
        disabled=row.disabled,
        totp_enabled=row.totp_secret is not None,
    )


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands timezone-aware columns back naive; they were written in UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class UserDirectory:
    def __init__(self, engine: Engine, audit_log: AuditLog) -> None:
        self.engine = engine
        self.audit_log = audit_log

    def create_schema(self) -> None:
        with self.engine.begin() as connection:
            missing = [
                t
                for t in IdentityBase.metadata.sorted_tables
                if not inspect(connection).has_table(t.name)
            ]
            IdentityBase.metadata.create_all(connection, tables=missing)

    # --- administration -------------------------------------------------------------------

    def add(
        self,
        username: str,
        full_name: str,
        role: Role,
        password: str,
        *,
        by: str,
        with_totp: bool = False,
    ) -> tuple[User, str | None]:
        """Create an account; returns it and, with `with_totp`, the TOTP secret (shown once)."""
        username = username.strip().lower()
        if not USERNAME.match(username):
            raise IdentityError(
                "username: 2-64 characters, lower-case letters, digits, '.', '_' or '-'"
            )
        full_name = full_name.strip()
        if not full_name or len(full_name) > 256:
            raise IdentityError("full name: required (it is printed on every signature)")
        passwords.check_policy(password, username=username)
        secret = totp.new_secret() if with_totp else None
        now = datetime.now(UTC)
        with Session(self.engine) as session, session.begin():
            if session.scalar(select(UserRow.id).where(UserRow.username == username)):
                raise IdentityError(f"username: {username} already exists")
            row = UserRow(
                username=username,
                full_name=full_name,
                role=role.value,
                password_hash=passwords.hash_password(password),
                totp_secret=secret,
                created_at=now,
                password_changed_at=now,
            )
            session.add(row)
            session.flush()
            user = _user(row)
        record(
            self.audit_log, EntryType.USER_ADDED, actor=by, when=now,
            reason=f"account {username} created with role {role.value}",
            data={"username": username, "full_name": full_name, "role": role.value,
                  "totp": with_totp},
        )  # fmt: skip
        return user, secret

    def disable(self, username: str, *, by: str, reason: str = "") -> User:
        def change(row: UserRow) -> None:
            row.disabled = True

        user = self._change(username, change)
        record(
            self.audit_log, EntryType.USER_DISABLED, actor=by, when=datetime.now(UTC),
            reason=reason or f"account {user.username} disabled",
            data={"username": user.username},
        )  # fmt: skip
        return user

    def reset_password(self, username: str, password: str, *, by: str) -> User:
        passwords.check_policy(password, username=username)
        new_hash = passwords.hash_password(password)
        now = datetime.now(UTC)

        def change(row: UserRow) -> None:
            row.password_hash = new_hash
            row.password_changed_at = now
            row.failed_logins = 0
            row.locked_until = None

        user = self._change(username, change)
        record(
            self.audit_log, EntryType.PASSWORD_RESET, actor=by, when=now,
            reason=f"password of {user.username} reset", data={"username": user.username},
        )  # fmt: skip
        return user

    def set_role(self, username: str, role: Role, *, by: str) -> User:
        before: list[str] = []

        def change(row: UserRow) -> None:
            before.append(row.role)
            row.role = role.value

        user = self._change(username, change)
        record(
            self.audit_log, EntryType.ROLE_CHANGED, actor=by, when=datetime.now(UTC),
            reason=f"role of {user.username}: {before[0]} -> {role.value}",
            data={"username": user.username, "from": before[0], "to": role.value},
        )  # fmt: skip
        return user

    def _change(self, username: str, change: object) -> User:
        with Session(self.engine) as session, session.begin():
            row = session.scalar(select(UserRow).where(UserRow.username == username.lower()))
            if row is None:
                raise IdentityError(f"username: no user {username}")
            assert callable(change)
            change(row)
            return _user(row)

    def list(self) -> list[User]:
        with Session(self.engine) as session:
            return [_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.username))]

    def get(self, user_id: int) -> User | None:
        with Session(self.engine) as session:
            row = session.get(UserRow, user_id)
            return _user(row) if row else None

    def totp_secret(self, username: str) -> str | None:
        with Session(self.engine) as session:
            return session.scalar(select(UserRow.totp_secret).where(UserRow.username == username))

    # --- authentication -------------------------------------------------------------------

    def authenticate(
        self, username: str, password: str, code: str = "", *, purpose: str = "login"
    ) -> User:
        """Check both components (and the TOTP code when enabled), with throttling.

        `purpose` is `login` (audited as a login or failed login) or `signature` (audited
        by the decision it signs, and a failed one leaves no entry: nothing was signed).
        Consecutive failures lock the account for `LOCKOUT`, signatures included.
        """
        username = username.strip().lower()
        now = datetime.now(UTC)
        with Session(self.engine) as session, session.begin():
            row = session.scalar(select(UserRow).where(UserRow.username == username))
            locked_until = _aware(row.locked_until) if row else None
            ok = passwords.verify_password(row.password_hash if row else None, password)
            if row is not None and ok and row.totp_secret is not None:
                ok = totp.verify(row.totp_secret, code)
            locked = locked_until is not None and locked_until > now
            if row is None or row.disabled or locked or not ok:
                if row is not None and not locked:
                    row.failed_logins += 1
                    if row.failed_logins >= MAX_FAILURES:
                        row.locked_until = now + LOCKOUT
                        row.failed_logins = 0
                why = "locked" if locked else "disabled" if row and row.disabled else "wrong"
                user = None
            else:
                row.failed_logins = 0
                row.locked_until = None
                if passwords.needs_rehash(row.password_hash):
                    row.password_hash = passwords.hash_password(password)
                user = _user(row)
        if user is None:
            if purpose == "login":
                record(
                    self.audit_log, EntryType.LOGIN_FAILED, actor=username or "(empty)",
                    when=now, reason=f"sign-in refused ({why})",
                    data={"username": username, "why": why},
                )  # fmt: skip
            message = (
                "too many failed attempts: try again later"
                if why == "locked"
                else "wrong user name, password or code"
            )
            raise AuthenticationFailed(message)
        if purpose == "login":
            record(
                self.audit_log, EntryType.LOGIN, actor=user.username, when=now,
                reason="signed in", data={"username": user.username, "totp": user.totp_enabled},
            )  # fmt: skip
        return user
