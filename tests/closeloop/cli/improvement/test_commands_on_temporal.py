"""`closeloop improvement …` against improvement workflows on the time-skipping server.

A real worker runs the improvement and its CAPA children with the real audit and KPI
activities (SQLite); the CLI opens, decides and shows as a quality manager would, in
development mode (`--actor`; tests/identity covers signing in).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from temporalio.testing import WorkflowEnvironment

from audit.store import EntryFilter
from closeloop.cli import main
from closeloop.cli.exit_status import ExitStatus
from closeloop.cli.improvement.client import visibility_query
from closeloop.stack.processes import free_port
from identity.roles import Role
from identity.service import Identity
from tests.closeloop.cli.harness import json_output
from tests.closeloop.cli.improvement.harness import (
    ACTOR,
    BARE,
    PASSWORD,
    Cli,
    open_one,
    running_cli,
)


@pytest.fixture
async def cli(
    time_skipping_env: WorkflowEnvironment, sqlite_url: str, tmp_path: Path
) -> AsyncIterator[Cli]:
    async for running in running_cli(time_skipping_env, sqlite_url, tmp_path):
        yield running


async def test_a_quality_manager_runs_one_cycle_to_standardisation(cli: Cli):
    now = await cli.env.get_current_time()
    cli.seed.received(now - timedelta(days=3), count=5)
    improvement_id = await open_one(cli, "--json")
    shown = json_output(await cli.run("show", improvement_id, "--json"))
    assert shown["status"] == "planning" and shown["opened"]["signal_id"] == "SIG-42"
    assert shown["opened"]["complaint_ids"] == ["C-1", "C-2"]

    result = await cli.run(
        "plan",
        improvement_id,
        *ACTOR,
        "--change",
        "Inspect 1 in 50 thermostats",
        "--action",
        "A1",
        "preventive",
        "eng.park",
        (now + timedelta(days=5)).isoformat(),  # the server's clock, not the wall clock
        "Change WI-114",
    )
    assert result.exit_code == ExitStatus.OK, result.output
    assert f"{improvement_id}  doing" in result.output
    assert "allowed next: complete-action" in result.output

    result = await cli.run(
        "complete-action", improvement_id, "--action", "A1", "--evidence", "qms://wi/114", *ACTOR
    )
    assert result.exit_code == ExitStatus.OK, result.output
    assert "all actions done, check the figure from" in result.output

    result = await cli.run("check", improvement_id, *ACTOR)
    assert result.exit_code == ExitStatus.REFUSED
    assert "--override-wait" in result.output and "refused:" in result.output
    assert not any(name in result.output for name in BARE), result.output

    state = json_output(await cli.run("show", improvement_id, "--json"))
    cli.seed.received(now + timedelta(days=2))  # after the actions: 1 complaint in the week
    await cli.env.sleep(timedelta(days=8))
    result = await cli.run("check", improvement_id, *ACTOR, "--expect-hash", state["state_hash"])
    assert result.exit_code == ExitStatus.OK, result.output
    assert "Checked complaints_received: 5.0 before, 1.0 after: improved" in result.output

    result = await cli.run("close", improvement_id, *ACTOR, "--standardise", "WI-114 rev C")
    assert result.exit_code == ExitStatus.OK, result.output
    assert f"{improvement_id}  standardised" in result.output

    result = await cli.run("show", improvement_id)
    assert result.exit_code == ExitStatus.OK, result.output
    for line in ("standardised  round 1", "signal:       SIG-42", "before 1", "after 1"):
        assert line in result.output
    assert cli.entry_types(improvement_id) == [
        "improvement.opened",
        "improvement.planned",
        "improvement.action_completed",
        "improvement.checked",
        "improvement.standardised",
    ]
    entries = cli.audit_log.entries(EntryFilter(complaint_id=improvement_id))
    assert entries[0].data["authenticated"] is False  # opened in development mode
    assert all(e.data["input"]["authenticated"] is False for e in entries[1:])
    assert all(
        e.actor == "qm.lee" for e in entries if e.entry_type != "improvement.action_completed"
    )


async def test_act_needs_exactly_one_choice_and_refusals_name_commands(cli: Cli):
    improvement_id = await open_one(cli)
    result = await cli.run("close", improvement_id, *ACTOR)
    assert result.exit_code == ExitStatus.USAGE
    assert "give exactly one of --standardise TEXT or --again REASON" in result.output
    result = await cli.run("close", improvement_id, *ACTOR, "--again", "not enough")
    assert result.exit_code == ExitStatus.REFUSED
    assert "`closeloop improvement close --again` is not allowed" in result.output
    assert "allowed decisions: `closeloop improvement plan`" in result.output
    assert cli.entry_types(improvement_id) == ["improvement.opened"]


async def test_bad_input_is_a_usage_error_naming_the_option(cli: Cli):
    base = ["open", "--owner", "o", "--problem", "p", *ACTOR]
    result = await cli.run(*base, "--figure", "complaints_received", "--for", "colour=red")
    assert result.exit_code == ExitStatus.USAGE
    assert "--for" in result.output and "'colour' is not a dimension" in result.output
    result = await cli.run(*base, "--figure", "happiness")
    assert result.exit_code == ExitStatus.USAGE and "'happiness' is not one of" in result.output
    result = await cli.run(*base, "--figure", "nps", "--id", "has space")
    assert result.exit_code == ExitStatus.USAGE and "--id" in result.output
    result = await cli.run(
        "plan", "IMP-X", *ACTOR, "--change", "c", "--action", "A1", "x", "o", "5d", "d"
    )
    assert result.exit_code == ExitStatus.USAGE and "--action A1 KIND" in result.output
    assert "Traceback" not in result.output


async def test_an_unknown_improvement_and_an_unreachable_temporal(cli: Cli):
    result = await cli.run("show", "IMP-NOPE")
    assert result.exit_code == ExitStatus.REFUSED and "no improvement IMP-NOPE" in result.output
    result = await cli.run(
        "show", "IMP-NOPE", CLOSELOOP_TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}"
    )
    assert result.exit_code == ExitStatus.UNREACHABLE and "cannot reach Temporal" in result.output


async def test_open_refuses_an_id_already_used(cli: Cli):
    improvement_id = await open_one(cli)
    result = await cli.run(
        "open", "--id", improvement_id, "--owner", "o", "--problem", "p", "--figure", "nps", *ACTOR
    )
    assert result.exit_code == ExitStatus.REFUSED and "already exists (--id)" in result.output


def test_list_filters_by_the_shared_search_attributes():
    query = visibility_query(status="doing", owner="eng.park", product="KET'200", overdue=True)
    assert query == (
        "WorkflowType = 'ImprovementWorkflow' AND ExecutionStatus = 'Running' AND "
        "CloseloopStatus = 'doing' AND CloseloopAssignee = 'eng.park' AND "
        "CloseloopProduct = 'KET\\'200' AND CloseloopOverdue = true"
    )


async def test_a_signed_in_user_signs_without_actor(cli: Cli):
    identity = Identity.from_url(cli.environ["CLOSELOOP_DATABASE_URL"])
    try:
        identity.users.add("qm.lee", "Lee Quality", Role.OPERATOR, PASSWORD, by="test")
    finally:
        identity.dispose()
    login = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["login", "qm.lee", "--password-stdin"],
        input=PASSWORD + "\n",
        env=cli.environ,
    )
    assert login.exit_code == ExitStatus.OK, login.output
    result = await cli.run(
        "open", "--id", "IMP-SIGNED", "--owner", "eng.park", "--problem", "p",
        "--figure", "complaints_received", "--json",
    )  # fmt: skip
    assert result.exit_code == ExitStatus.OK, result.output
    due = (await cli.env.get_current_time() + timedelta(days=5)).isoformat()
    result = await cli.run(
        "plan", "IMP-SIGNED", "--change", "c", "--action", "A1", "preventive", "eng.park", due, "d"
    )
    assert result.exit_code == ExitStatus.OK, result.output
    opened, planned = cli.audit_log.entries(EntryFilter(complaint_id="IMP-SIGNED"))
    assert opened.actor == planned.actor == "qm.lee"
    assert planned.data["actor"] == {"id": "qm.lee", "name": "Lee Quality"}
    assert "authenticated" not in opened.data and "authenticated" not in planned.data["input"]
    result = await cli.run(
        "check", "IMP-SIGNED", "--actor", "someone.else", CLOSELOOP_DEV_UNAUTHENTICATED="false"
    )
    assert result.exit_code == ExitStatus.REFUSED and "you are signed in as qm.lee" in result.output
