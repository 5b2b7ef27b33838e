"""`closeloop users`: passwords only from a prompt or stdin, clear errors, audited changes."""

from __future__ import annotations

import subprocess
import sys

import pytest

from audit.store import AuditLog

PASSWORD = "correct horse battery staple"


def run(env, *args, input=None):
    return subprocess.run(
        [sys.executable, "-m", "closeloop", "users", *args],
        env=env, input=input, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.clause("21 CFR 11.100")
def test_users_add_list_disable_reset_from_the_command_line(tmp_path, monkeypatch):
    import os

    url = f"sqlite:///{tmp_path / 'audit.db'}"
    env = {**os.environ, "CLOSELOOP_HOME": str(tmp_path), "CLOSELOOP_DATABASE_URL": url}
    added = run(env, "add", "ann.op", "--name", "Ann Op", "--role", "operator",
                "--password-stdin", input=PASSWORD + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = run(env, "list")
    assert "ann.op\tAnn Op\toperator\tactive\tpassword" in listed.stdout
    again = run(env, "add", "ann.op", "--name", "Ann", "--role", "operator", "--password-stdin",
                input=PASSWORD + "\n")  # fmt: skip
    assert again.returncode == 2 and "username: ann.op already exists" in again.stderr
    weak = run(env, "reset-password", "ann.op", "--password-stdin", input="short\n")
    assert weak.returncode == 2 and "password: at least 12 characters" in weak.stderr
    assert "Traceback" not in weak.stderr
    assert run(env, "set-role", "ann.op", "auditor").returncode == 0
    assert run(env, "disable", "ann.op", "--reason", "left").returncode == 0
    assert "auditor\tdisabled" in run(env, "list").stdout
    log = AuditLog.from_url(url, create=False)
    kinds = [e.entry_type for e in log.entries()]
    log.dispose()
    assert kinds == ["identity.user_added", "identity.role_changed", "identity.user_disabled"]
    assert all(PASSWORD not in str(e) for e in kinds)


def test_password_is_not_an_option():
    from click.testing import CliRunner

    from closeloop.cli import main

    result = CliRunner().invoke(main, ["users", "add", "x", "--password", "y"])
    assert result.exit_code == 2 and "No such option" in result.output
