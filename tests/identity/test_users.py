"""The user directory: accounts, Argon2id hashes, throttling, TOTP, and their audit entries."""

from __future__ import annotations

import pytest

from identity import totp
from identity.passwords import WeakPassword
from identity.records import IDENTITY_SUBJECT, EntryType
from identity.roles import Permission, Role
from identity.service import Identity
from identity.users import MAX_FAILURES, AuthenticationFailed, IdentityError

PASSWORD = "correct horse battery staple"


@pytest.fixture
def identity(database_url: str):
    service = Identity.from_url(database_url)
    yield service
    service.dispose()


def types(identity: Identity) -> list[str]:
    return [e.entry_type for e in identity.audit_log.entries()]


@pytest.mark.clause("21 CFR 11.300")
def test_added_user_signs_in_with_an_argon2id_hash_and_both_are_audited(identity):
    identity.users.add("ann.op", "Ann Op", Role.OPERATOR, PASSWORD, by="os:admin")
    user = identity.users.authenticate("ann.op", PASSWORD)
    assert user.full_name == "Ann Op" and user.can(Permission.DECIDE)
    from sqlalchemy import text

    with identity.audit_log.engine.connect() as connection:
        stored = connection.execute(text("SELECT password_hash FROM identity_users")).scalar()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    entries = identity.audit_log.entries()
    assert [e.entry_type for e in entries] == [EntryType.USER_ADDED, EntryType.LOGIN]
    assert all(e.complaint_id == IDENTITY_SUBJECT for e in entries)
    assert all(PASSWORD not in str(e.data) for e in entries)


def test_wrong_password_is_refused_and_audited_as_a_failed_login(identity):
    identity.users.add("ann.op", "Ann Op", Role.OPERATOR, PASSWORD, by="os:admin")
    with pytest.raises(AuthenticationFailed):
        identity.users.authenticate("ann.op", "not the password at all")
    with pytest.raises(AuthenticationFailed):
        identity.users.authenticate("nobody", PASSWORD)
    assert types(identity)[-2:] == [EntryType.LOGIN_FAILED, EntryType.LOGIN_FAILED]


@pytest.mark.clause("21 CFR 11.300")
def test_repeated_failures_lock_the_account_even_for_the_right_password(identity):
    identity.users.add("ann.op", "Ann Op", Role.OPERATOR, PASSWORD, by="os:admin")
    for _ in range(MAX_FAILURES):
        with pytest.raises(AuthenticationFailed):
            identity.users.authenticate("ann.op", "wrong password here")
    with pytest.raises(AuthenticationFailed, match="too many failed attempts"):
        identity.users.authenticate("ann.op", PASSWORD)
    identity.users.reset_password("ann.op", "another long passphrase", by="os:admin")
    assert identity.users.authenticate("ann.op", "another long passphrase").username == "ann.op"


def test_disabled_user_cannot_sign_in(identity):
    identity.users.add("ann.op", "Ann Op", Role.OPERATOR, PASSWORD, by="os:admin")
    identity.users.disable("ann.op", by="os:admin", reason="left the company")
    with pytest.raises(AuthenticationFailed):
        identity.users.authenticate("ann.op", PASSWORD)
    assert EntryType.USER_DISABLED in types(identity)


def test_totp_is_required_when_enabled(identity):
    _, secret = identity.users.add(
        "qm.lee", "Lee Quality", Role.QUALITY_MANAGER, PASSWORD, by="os:admin", with_totp=True
    )
    assert secret
    with pytest.raises(AuthenticationFailed):
        identity.users.authenticate("qm.lee", PASSWORD, "")
    assert identity.users.authenticate("qm.lee", PASSWORD, totp.current_code(secret)).totp_enabled


def test_role_change_is_audited_with_before_and_after(identity):
    identity.users.add("ann.op", "Ann Op", Role.OPERATOR, PASSWORD, by="os:admin")
    user = identity.users.set_role("ann.op", Role.AUDITOR, by="os:admin")
    assert not user.can(Permission.DECIDE)
    entry = identity.audit_log.entries()[-1]
    assert entry.entry_type == EntryType.ROLE_CHANGED
    assert entry.data == {"username": "ann.op", "from": "operator", "to": "auditor"}


def test_signature_failures_write_no_audit_entry(identity):
    identity.users.add("ann.op", "Ann Op", Role.OPERATOR, PASSWORD, by="os:admin")
    before = len(identity.audit_log.entries())
    with pytest.raises(AuthenticationFailed):
        identity.users.authenticate("ann.op", "wrong password here", purpose="signature")
    identity.users.authenticate("ann.op", PASSWORD, purpose="signature")
    assert len(identity.audit_log.entries()) == before


@pytest.mark.parametrize(
    ("username", "name", "password", "field"),
    [
        ("A B", "Ann", PASSWORD, "username"),
        ("ann.op", " ", PASSWORD, "full name"),
        ("ann.op", "Ann", "short", "password"),
        ("ann.op", "Ann", "ann.op-is-my-password", "password"),
    ],
)
def test_bad_account_data_is_refused_naming_the_field(identity, username, name, password, field):
    with pytest.raises((IdentityError, WeakPassword), match=f"^{field}:"):
        identity.users.add(username, name, Role.OPERATOR, password, by="os:admin")
    assert identity.users.list() == []


@pytest.mark.clause("21 CFR 11.300")
def test_sessions_expire_rotate_and_store_only_a_digest(identity):
    from sqlalchemy import text

    user, _ = identity.users.add("ann.op", "Ann Op", Role.OPERATOR, PASSWORD, by="os:admin")
    anonymous = identity.sessions.create()
    signed_in = identity.sessions.sign_in(anonymous.token, user.id)
    assert signed_in.token != anonymous.token and signed_in.csrf_token != anonymous.csrf_token
    assert identity.sessions.get(anonymous.token) is None
    assert identity.sessions.get(signed_in.token).user_id == user.id
    with identity.audit_log.engine.connect() as connection:
        stored = connection.execute(text("SELECT token_hash FROM identity_sessions")).scalars()
        assert signed_in.token not in list(stored)
    from datetime import timedelta

    from identity.sessions import SessionStore

    expired = SessionStore(identity.audit_log.engine, lifetime=timedelta(seconds=-1))
    assert expired.get(expired.create(user.id).token) is None
