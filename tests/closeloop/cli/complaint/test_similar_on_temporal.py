"""`closeloop complaint show` shows similar complaints; `link-related` confirms one.

On the time-skipping server with a real worker, the real audit and similarity activities
(SQLite); the status publisher is an in-memory double.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from temporalio.testing import WorkflowEnvironment

from audit.store import EntryFilter
from base.similarity import METHOD, METHOD_VERSION
from schemas.complaint_state import ComplaintState
from schemas.events import Customer
from tests.closeloop.cli.complaint.harness import ACTOR, Cli, running_cli
from tests.closeloop.cli.harness import json_output

STEAM = (
    "The kettle does not switch itself off when the water boils. It kept boiling until the "
    "kitchen was full of steam and I had to pull the plug."
)


@pytest.fixture
async def cli(time_skipping_env: WorkflowEnvironment, sqlite_url: str) -> AsyncIterator[Cli]:
    async for running in running_cli(time_skipping_env, sqlite_url):
        yield running


async def start(cli: Cli, description: str) -> str:
    """A complaint from a customer of its own: similar, never the same case."""
    return await cli.start(
        complaint_id=f"C-SIM-{uuid.uuid4().hex[:8]}",
        customer=Customer(id=f"CUST-{uuid.uuid4().hex[:6]}", name="Ada Example"),
        description=description,
    )


async def test_show_lists_similar_complaints_with_their_scores(cli):
    first = await start(cli, STEAM)
    second = await start(cli, STEAM)
    result = await cli.run("show", second)
    assert result.exit_code == 0, result.output
    assert f"similar complaints ({METHOD} v{METHOD_VERSION}, threshold 0.65)" in result.output
    assert first in result.output
    state = ComplaintState.model_validate(json_output(await cli.run("show", second, "--json")))
    assert state.similar is not None
    [suggestion] = state.similar.suggestions
    assert suggestion.complaint_id == first and suggestion.score > 0.9
    result = await cli.run("show", first)
    assert "similar complaints: none found" in result.output


async def test_link_related_is_audited_with_score_method_and_version(cli):
    first = await start(cli, STEAM)
    second = await start(cli, STEAM)
    result = await cli.run(
        "link-related", second, *ACTOR, "--to", first, "--explanation", "Same fault, same lot"
    )
    assert result.exit_code == 0, result.output
    [entry] = cli.audit_log.entries(
        EntryFilter(complaint_id=second, entry_type="complaint.linked_related")
    )
    assert entry.actor == "qe.smith"
    assert entry.data["similarity"]["suggested"] is True
    assert entry.data["similarity"]["score"] > 0.9
    assert entry.data["similarity"]["method"] == METHOD
    assert entry.data["similarity"]["method_version"] == METHOD_VERSION
    result = await cli.run("show", second)
    assert "related" in result.output


async def test_link_related_to_an_unknown_complaint_exits_1_and_records_nothing(cli):
    second = await start(cli, STEAM)
    before = len(cli.audit_log.entries(EntryFilter(complaint_id=second)))
    result = await cli.run(
        "link-related", second, *ACTOR, "--to", "C-NOPE-404", "--explanation", "x"
    )
    assert result.exit_code == 1
    assert "--to: no complaint C-NOPE-404" in result.output
    assert "Traceback" not in result.output
    assert len(cli.audit_log.entries(EntryFilter(complaint_id=second))) == before
    result = await cli.run("link-related", "C-NOPE-1", *ACTOR, "--to", second, "--explanation", "x")
    assert result.exit_code == 1
    assert "no complaint C-NOPE-1" in result.output


async def test_link_related_to_itself_is_a_usage_error(cli):
    result = await cli.run("link-related", "C-1", *ACTOR, "--to", "C-1", "--explanation", "x")
    assert result.exit_code == 2
    assert "--to: a complaint cannot be related to itself" in result.output
    result = await cli.run("link-related", "C-1", *ACTOR, "--to", "C 2", "--explanation", "x")
    assert result.exit_code == 2
    assert "--to" in result.output and "Traceback" not in result.output
