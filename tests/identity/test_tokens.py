"""CLI tokens: random, stored only as a digest, expiring, revocable, audited without secrets."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from identity.roles import Role
from identity.service import Identity
from identity.tables import ApiTokenRow

PASSWORD = "correct horse battery staple"


@pytest.fixture
def identity(tmp_path):
    identity = Identity.from_url(f"sqlite:///{tmp_path / 'audit.db'}")
    yield identity
    identity.dispose()


def test_a_token_stands_for_its_user_until_revoked(identity):
    user, _ = identity.users.add("ann.op", "Ann Op", Role.OPERATOR, PASSWORD, by="test")
    token, _ = identity.tokens.issue(user)
    other, _ = identity.tokens.issue(user)
    assert token != other and token.startswith("clt_") and len(token) > 40
    assert identity.tokens.user_for(token) == user
    with Session(identity.audit_log.engine) as session:
        stored = session.scalars(select(ApiTokenRow.token_hash)).all()
    assert token not in stored and len(stored) == 2
    assert identity.tokens.revoke(token) is True
    assert identity.tokens.user_for(token) is None
    assert identity.tokens.revoke(token) is False
    assert identity.tokens.user_for(other) == user
    entries = [e for e in identity.audit_log.entries() if e.entry_type.startswith("identity.tok")]
    assert [e.entry_type for e in entries] == [
        "identity.token_issued",
        "identity.token_issued",
        "identity.token_revoked",
    ]
    assert all(token not in str(e) and other not in str(e) for e in entries)
    assert entries[0].actor == "ann.op"


def test_expired_unknown_and_disabled_tokens_are_worth_nothing(identity):
    user, _ = identity.users.add("ann.op", "Ann Op", Role.OPERATOR, PASSWORD, by="test")
    token, _ = identity.tokens.issue(user, timedelta(hours=1))
    with Session(identity.audit_log.engine) as session, session.begin():
        session.execute(update(ApiTokenRow).values(expires_at=ApiTokenRow.created_at))
    assert identity.tokens.user_for(token) is None
    assert identity.tokens.user_for("clt_" + "x" * 43) is None
    assert identity.tokens.user_for("") is None
    live, _ = identity.tokens.issue(user)
    identity.users.disable("ann.op", by="test")
    assert identity.tokens.user_for(live) is None


def test_a_lifetime_out_of_bounds_is_refused(identity):
    user, _ = identity.users.add("ann.op", "Ann Op", Role.OPERATOR, PASSWORD, by="test")
    with pytest.raises(ValueError, match="lifetime"):
        identity.tokens.issue(user, timedelta(days=31))
