"""`closeloop login` / `logout`: the token file (0600), TOTP, and who a decision is signed by.

Decisions themselves are sent on a real Temporal in
tests/closeloop/cli/complaint/test_decisions_on_temporal.py; here the commands stop before
Temporal (nothing listens at the address), after the signer was resolved.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pyotp
import pytest

from audit.store import AuditLog
from closeloop.stack import free_port
from identity.roles import Role
from identity.service import Identity

PASSWORD = "correct horse battery staple"


def closeloop(env, *args, input=None):
    return subprocess.run(
        [sys.executable, "-m", "closeloop", *args],
        env=env, input=input, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def environment(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSELOOP_")}
    env["CLOSELOOP_HOME"] = str(tmp_path)
    env["CLOSELOOP_DATABASE_URL"] = f"sqlite:///{tmp_path / 'audit.db'}"
    env["CLOSELOOP_TEMPORAL_ADDRESS"] = f"127.0.0.1:{free_port()}"  # nothing listens there
    return env


def add_user(env, username, role=Role.OPERATOR, totp=False):
    identity = Identity.from_url(env["CLOSELOOP_DATABASE_URL"])
    try:
        return identity.users.add(username, "Ann Op", role, PASSWORD, by="test", with_totp=totp)
    finally:
        identity.dispose()


DECISION = ["complaint", "add-info", "C-1", "--information", "photo"]


@pytest.mark.clause("21 CFR 11.10(d)")
def test_without_login_an_actor_decision_is_refused_unless_in_development_mode(tmp_path):
    env = environment(tmp_path)
    refused = closeloop(env, *DECISION, "--actor", "mallory")
    assert refused.returncode == 1
    assert "--actor: unauthenticated decisions are refused" in refused.stderr
    assert "CLOSELOOP_DEV_UNAUTHENTICATED=true" in refused.stderr
    assert "Traceback" not in refused.stderr
    nobody = closeloop(env, *DECISION)
    assert nobody.returncode == 1 and "not signed in: run `closeloop login" in nobody.stderr
    dev = closeloop({**env, "CLOSELOOP_DEV_UNAUTHENTICATED": "true"}, *DECISION, "--actor", "x")
    assert dev.returncode == 3 and "cannot reach Temporal" in dev.stderr  # got past signing


@pytest.mark.clause("21 CFR 11.50", "21 CFR 11.100")
def test_login_stores_a_private_token_and_decisions_sign_as_its_user(tmp_path):
    env = environment(tmp_path)
    add_user(env, "ann.op")
    wrong = closeloop(env, "login", "ann.op", "--password-stdin", input="not the password\n")
    assert wrong.returncode == 1 and "wrong user name, password or code" in wrong.stderr
    assert not (tmp_path / "cli-token.json").exists()
    done = closeloop(env, "login", "ann.op", "--password-stdin", input=PASSWORD + "\n")
    assert done.returncode == 0, done.stderr
    assert "signed in as Ann Op (ann.op), operator" in done.stdout
    path = tmp_path / "cli-token.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = json.loads(path.read_text())["token"]
    assert token not in done.stdout + done.stderr
    # The signer comes from the token: no --actor needed, and another --actor is refused.
    assert closeloop(env, *DECISION).returncode == 3
    assert closeloop(env, *DECISION, "--actor", "ann.op").returncode == 3
    other = closeloop(env, *DECISION, "--actor", "mallory")
    assert other.returncode == 1 and "you are signed in as ann.op" in other.stderr
    out = closeloop(env, "logout")
    assert out.returncode == 0 and "signed out ann.op" in out.stdout
    assert not path.exists()
    log = AuditLog.from_url(env["CLOSELOOP_DATABASE_URL"], create=False)
    kinds = [e.entry_type for e in log.entries()]
    log.dispose()
    assert kinds == [
        "identity.user_added",
        "identity.login_failed",
        "identity.login",
        "identity.token_issued",
        "identity.token_revoked",
    ]


@pytest.mark.clause("21 CFR 11.300")
def test_a_revoked_or_disabled_token_no_longer_signs(tmp_path):
    env = environment(tmp_path)
    add_user(env, "ann.op")
    assert (
        closeloop(env, "login", "ann.op", "--password-stdin", input=PASSWORD + "\n").returncode == 0
    )
    identity = Identity.from_url(env["CLOSELOOP_DATABASE_URL"])
    identity.users.disable("ann.op", by="test")
    identity.dispose()
    refused = closeloop(env, *DECISION)
    assert refused.returncode == 1 and "run `closeloop login USER` again" in refused.stderr


@pytest.mark.clause("21 CFR 11.10(g)")
def test_an_auditor_token_cannot_sign(tmp_path):
    env = environment(tmp_path)
    add_user(env, "aud.it", Role.AUDITOR)
    assert (
        closeloop(env, "login", "aud.it", "--password-stdin", input=PASSWORD + "\n").returncode == 0
    )
    refused = closeloop(env, *DECISION)
    assert refused.returncode == 1 and "aud.it (auditor) may not sign decisions" in refused.stderr


def test_login_with_totp_needs_the_code(tmp_path):
    env = environment(tmp_path)
    _, secret = add_user(env, "ann.op", totp=True)
    wrong = closeloop(env, "login", "ann.op", "--password-stdin", "--code", "000000",
                      input=PASSWORD + "\n")  # fmt: skip
    assert wrong.returncode == 1 and "wrong user name, password or code" in wrong.stderr
    code = pyotp.TOTP(secret).now()
    done = closeloop(env, "login", "ann.op", "--password-stdin", "--code", code,
                     input=PASSWORD + "\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
