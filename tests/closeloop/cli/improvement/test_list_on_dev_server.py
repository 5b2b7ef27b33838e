"""`closeloop improvement list` against the Temporal dev server, which has the visibility
store (the time-skipping server has none): what a quality manager filters on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

from closeloop.cli.exit_status import ExitStatus
from schemas import search_attributes
from tests.closeloop.cli.improvement.harness import ACTOR, Cli, open_one, running_cli
from tests.conftest import SERVER_STARTUP_TIMEOUT, eventually, start_with_retries, venv_binary


@pytest.fixture(scope="module")
async def dev_env() -> AsyncIterator[WorkflowEnvironment]:
    env = await start_with_retries(
        lambda: WorkflowEnvironment.start_local(
            data_converter=pydantic_data_converter,
            dev_server_existing_path=venv_binary("temporal"),
            dev_server_startup_timeout=SERVER_STARTUP_TIMEOUT,
            search_attributes=list(search_attributes.ALL),
        ),
        what="the Temporal dev server",
    )
    try:
        yield env
    finally:
        await env.shutdown()


@pytest.fixture
async def cli(dev_env: WorkflowEnvironment, sqlite_url: str, tmp_path: Path) -> AsyncIterator[Cli]:
    async for running in running_cli(dev_env, sqlite_url, tmp_path):
        yield running


def rows(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith('{"id"')]


async def test_list_shows_open_improvements_filtered_by_status_owner_and_product(cli: Cli):
    planning = await open_one(cli)
    doing = await open_one(cli)
    result = await cli.run(
        "plan", doing, *ACTOR, "--change", "c", "--action", "A1", "preventive", "eng.park",
        "14d", "Change WI-114",
    )  # fmt: skip
    assert result.exit_code == ExitStatus.OK, result.output

    async def listed(*options: str) -> list[dict]:
        result = await cli.run("list", "--json", *options)
        assert result.exit_code == ExitStatus.OK, result.output
        return rows(result.output)

    found = await eventually(
        lambda: listed("--status", "doing", "--owner", "eng.park"),
        lambda found: [row["id"] for row in found] == [doing],
    )
    assert [row["id"] for row in found] == [doing]
    assert found[0]["product"] == "KET-200" and found[0]["next_due"].endswith("UTC")
    both = await listed("--product", "KET-200")
    assert {row["id"] for row in both} >= {planning, doing}
    assert await listed("--owner", "someone.else") == []
    result = await cli.run("list", "--owner", "someone.else")
    assert "no improvements match" in result.output
    table = (await cli.run("list", "--status", "planning")).output
    assert table.splitlines()[0].split() == [
        "improvement",
        "status",
        "owner",
        "product",
        "overdue",
        "next",
        "due",
    ]
    assert planning in table and doing not in table
