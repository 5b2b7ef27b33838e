"""`closeloop complaint …` loads the Temporal client and the payload models, nothing heavier
(issue 8, "Fast CLI"), and an unreachable Temporal is exit status 3.

Checked the way the issue measured it: `python -X importtime`, in a real process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from closeloop.cli.exit_status import ExitStatus
from closeloop.stack import free_port

HEAVY = {"workflows", "activities", "streams", "audit", "sqlalchemy", "kafka", "aiokafka"}
HEAVY |= {"faust", "jsonschema"}

COMMANDS = {
    "show": ["show", "C-1"],
    "list": ["list"],
    "decision": ["add-info", "C-1", "--actor", "a", "--information", "photo"],
}


def imported_modules(*args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSELOOP_")}
    env["CLOSELOOP_TEMPORAL_ADDRESS"] = f"127.0.0.1:{free_port()}"  # nothing listens there
    env["CLOSELOOP_DEV_UNAUTHENTICATED"] = "true"  # `--actor` without `closeloop login`
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "closeloop", "complaint", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    modules = {
        line.split("|")[-1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    return done, modules


@pytest.mark.parametrize("name", list(COMMANDS))
def test_a_complaint_command_imports_nothing_heavy(name):
    done, modules = imported_modules(*COMMANDS[name])
    assert "temporalio.client" in modules
    heavy = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert heavy == []
    assert done.returncode == ExitStatus.UNREACHABLE, done.stderr[-2000:]
    assert "cannot reach Temporal at 127.0.0.1:" in done.stderr
    assert "Traceback" not in done.stderr


def test_list_does_not_load_the_decision_commands_or_rich():
    _, modules = imported_modules(*COMMANDS["list"])
    assert "closeloop.cli.complaint.case_commands" not in modules
    assert not any(m.split(".")[0] == "rich" for m in modules)
